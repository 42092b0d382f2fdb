"""What the web pages (web/) and the JSON API (api/) share: who the caller is and what they may do (security.py), one
error handler (errors.py), reading requests (requests.py: uploads with limits, bbox/whole-number/date arguments, JSON
object bodies) and the settings and stores a request works with (settings.py). web/ and api/ depend on this package
and on the domain, never on each other and never on the store."""
