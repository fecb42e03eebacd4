// The file formats, the error type and the output rule are part of the engine's API.
@_exported import SPTFormats
@_exported import SPTFiles
