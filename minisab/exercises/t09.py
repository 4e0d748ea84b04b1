"""Tutorial 9 (real data) has no checked exercises: its questions for discussion are written
answers, marked by hand (``written.WRITTEN["t09"]``)."""
