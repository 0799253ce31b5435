"""Models by name: a catalog of Whisper and translation models, downloaded from the Hugging Face
hub by the daemon itself (size and free space checked first, every file's hash verified,
resumable, installed only when complete), listed and deleted from the Models view."""
