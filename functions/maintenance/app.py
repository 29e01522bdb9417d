"""The maintenance function, on its schedule (EventBridge, every five minutes): resumes parked events whose
condition holds, refreshes tokens before they lapse, releases backfills gradually and reconciles Acuity's recent
appointments and orders, each part bounded per run.

Thin by design: acuity_sync.wiring.maintenance builds the handler; the parts are acuity_sync.operations.
"""

from acuity_sync.wiring.maintenance import maintenance_lambda_handler

lambda_handler = maintenance_lambda_handler()
