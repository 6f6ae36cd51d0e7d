"""Deployment handles made ready while the GCS is reachable."""

from __future__ import annotations

from ray.serve.handle import DeploymentHandle


def ready(*handles: DeploymentHandle) -> None:
    """Builds each handle's router now, in the replica's constructor.

    A handle builds its router on its first call, and building one asks the GCS for the node's
    availability zone synchronously, on the replica's event loop. Left to the first request,
    a GCS outage (a fault-tolerant head restarting) would freeze the whole replica until the
    GCS came back; built here, no later call of the handle needs the GCS, and the replica goes
    on serving through the outage (tests/serve/gcs_ft_scenario.py).
    """
    for handle in handles:
        handle.options()  # initialises the router that every method handle of it shares
