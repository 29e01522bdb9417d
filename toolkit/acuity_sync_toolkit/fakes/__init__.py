"""HTTP fakes of Acuity, QuickBooks Online, Xero and FreshBooks, faithful to ../shared/reference/."""
