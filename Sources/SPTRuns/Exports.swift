// Every writer of this module and of its users goes through the one output rule.
@_exported import SPTOutput
