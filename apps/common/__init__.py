"""Small pieces several apps share (not a Django app: no models, no urls).

``images`` reads and checks uploaded photos under the configured limits, ``files`` serves private
files, ``forms`` holds form fields. Each module is named for what it does.
"""
