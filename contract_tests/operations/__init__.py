"""Every Viewer operation but create, call by call: valid values of any schema node
(``values``), one-rule-invalid ones and near misses (``mutations``), and the probes the suite
sends (``probes``)."""
