"""The HTTP edge: reading bodies and query strings safely, authentication, HTML pages."""
