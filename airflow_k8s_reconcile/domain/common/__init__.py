"""What every capability shares: the one catalogue of finding codes, redaction, wording and name rules.

Imports nothing from the other ``domain`` sub-packages, so any of them can use it.
"""
