"""`crossdock chaos`: orders through the embedded stack under partner faults, worker
kills and restarts of the dev server and the sandbox, checked against invariants from
both sides (docs/chaos.md).

`driver.run_chaos` runs one (`ChaosPlan` in, `ChaosReport` out); `invariants` computes
the table from `ledgers` (the partners' side) and `cases` (the workflows' side). Nothing
is imported here, so `crossdock` commands that do not run chaos do not load it.
"""
