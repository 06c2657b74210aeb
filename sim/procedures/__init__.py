"""The procedures, one package each (``sim/procedures/<name>/``), and what they share.

- :mod:`sim.procedures.base`: the :class:`~sim.procedures.base.Procedure` interface.
- :mod:`sim.procedures.registry`: finds every package's ``PROCEDURE``, looks a scenario's
  ``task`` up, and holds the metric catalogue as a whole.
- :mod:`sim.procedures.check`: the contract checker every procedure passes.
"""
