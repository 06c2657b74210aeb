"""The instructor portal (``procsim portal``): a web application over the session store."""
