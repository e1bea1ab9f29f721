"""The company's customer directory."""
