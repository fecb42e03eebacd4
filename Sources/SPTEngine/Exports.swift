// The file formats and the error type are part of the engine's API.
@_exported import SPTFormats
