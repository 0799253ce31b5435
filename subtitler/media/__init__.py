"""Media files: probing (MediaInfo), audio extraction and language codes."""
