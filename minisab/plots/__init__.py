"""Every figure: their look (``style``), learning curves and credit (``curves``), where attention
goes (``attention``), the two pictures of the method (``diagrams``) and the interactive credit
explorer (``explorer``). Inputs are host (NumPy) arrays; nothing here computes the model.
"""
from .attention import attention_heatmap, selection_history_plot, selection_plot
from .curves import credit_matrix_plot, credit_reach_plot, learning_curves, work_plot
from .style import (CMAP_CREDIT, CMAP_WEIGHTS, METHOD_COLORS, OTHER_COLORS, add_colorbar,
                    add_legend, method_color, new_figure, style_axes)

__all__ = ["attention_heatmap", "selection_history_plot", "selection_plot", "credit_matrix_plot",
           "credit_reach_plot", "learning_curves", "work_plot", "CMAP_CREDIT", "CMAP_WEIGHTS",
           "METHOD_COLORS", "OTHER_COLORS", "add_colorbar", "add_legend", "method_color",
           "new_figure", "style_axes"]
