"""OpenTelemetry export: records as GenAI spans and metrics (`exporters.OTelExporter`)."""
