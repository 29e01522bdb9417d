"""The local stack: moto with the template's resources, the local gateway, the pollers and the Lambda-like workers."""
