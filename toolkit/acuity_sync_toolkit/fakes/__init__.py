"""HTTP fakes of Acuity, QuickBooks Online, Xero and FreshBooks, faithful to ../shared/reference/.

One package per fake (acuity/, quickbooks/, xero/, freshbooks/; acuity_admin.py is a client of the fake Acuity's
admin endpoints) on one shared toolkit: service.py (FakeService: a server of its own, a clock, `plan_fault`;
LedgerFake: a token authority), httpserver.py (the routing HTTP server), clock.py (FakeClock), limits.py (the rate
limiter), faults.py (planned faults), oauth_authority.py (tokens and each ledger's token rules), credentials.py,
parameters.py (what each route applies; everything else refused as not supported by this fake: each fake declares
its routes in its accepted.py).
"""
