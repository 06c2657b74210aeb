"""Pure metric functions over arrays (positions in mm, times in s) and the scorer."""
