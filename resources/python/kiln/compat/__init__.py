"""Other tools' module layouts over Kiln's SDK, so that their notebooks port by changing imports."""
