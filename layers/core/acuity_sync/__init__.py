"""Acuity Scheduling → accounting sync: the shared package every function imports (built by SAM as a layer)."""
