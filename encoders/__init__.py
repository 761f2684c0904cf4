"""ffmpeg: probing, profiles, command building, capability detection."""
