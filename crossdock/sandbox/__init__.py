"""The partner sandbox: every partner Crossdock talks to, in its own wire format.

`app.create_app` mounts one router per partner; `context.SandboxConfig` configures them;
`faults` holds fault profiles. Partners with several concerns are packages (`stripe`,
`easypost`, `amazon`, `ebay`, `customs`, `warehouse`), each serving its routes from
`routes.build(ctx)`; `core` holds what they share (record store, ledger, idempotency,
outbound webhooks, fault injection). docs/sandbox.md has the floor plan.
"""
