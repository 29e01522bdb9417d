"""Everything that speaks Acuity: webhook signatures and forms, the API client, the models."""
