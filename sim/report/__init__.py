"""HTML reports with embedded plots: one session, or a trainee's progress."""
