"""The local stack: embedded AWS (moto), the local gateway and pollers, the fakes. Not shipped to Lambda."""
