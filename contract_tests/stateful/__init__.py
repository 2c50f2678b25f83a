"""The model-based state machine: the model of the Viewer world, the machine that drives any
implementation with it, the invariants it checks after every step, and reproduction scripts."""
