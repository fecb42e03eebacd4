// The file rules (output, regular files, JSON) are part of this module's API.
@_exported import SPTFiles
