"""The curl options the importer knows, by every name curl gives them, and what each one means to it.

"ignore" options change nothing a definition can hold (output, progress, protocol versions...).
"""

from __future__ import annotations

# fmt: off
# Options that take a value.
VALUE_OPTIONS: dict[str, str] = {
    "-X": "method", "--request": "method",
    "-H": "header", "--header": "header",
    "-d": "data", "--data": "data", "--data-ascii": "data",
    "--data-raw": "data-raw",
    "--data-binary": "data-binary",
    "--data-urlencode": "data-urlencode",
    "--json": "json",
    "-F": "form", "--form": "form",
    "--form-string": "form-string",
    "-u": "user", "--user": "user",
    "-b": "cookie", "--cookie": "cookie",
    "-A": "user-agent", "--user-agent": "user-agent",
    "-e": "referer", "--referer": "referer",
    "--url": "url",
    "-m": "max-time", "--max-time": "max-time",
    "--oauth2-bearer": "bearer",
    "--connect-timeout": "ignore", "--retry": "ignore", "--retry-delay": "ignore",
    "--retry-max-time": "ignore", "-o": "ignore", "--output": "ignore", "-w": "ignore",
    "--write-out": "ignore", "-c": "ignore", "--cookie-jar": "ignore", "--max-redirs": "ignore",
    "--limit-rate": "ignore", "--resolve": "ignore", "--connect-to": "ignore", "--interface": "ignore",
    "--trace": "ignore", "--trace-ascii": "ignore", "-D": "ignore", "--dump-header": "ignore",
    "-Y": "ignore", "--speed-limit": "ignore", "-y": "ignore", "--speed-time": "ignore", "-r": "ignore",
    "--range": "ignore", "-U": "ignore", "--proxy-user": "ignore", "--cert-type": "ignore",
    "--key-type": "ignore", "--ciphers": "ignore", "--tls-max": "ignore",
    "-x": "proxy", "--proxy": "proxy",
    "-E": "cert", "--cert": "cert", "--key": "cert", "--cacert": "cert", "--capath": "cert",
}

# Options without a value.
FLAG_OPTIONS: dict[str, str] = {
    "-G": "get", "--get": "get",
    "-I": "head", "--head": "head",
    "-k": "insecure", "--insecure": "insecure",
    "-L": "ignore", "--location": "ignore", "--location-trusted": "ignore", "--compressed": "ignore",
    "-s": "ignore", "--silent": "ignore", "-S": "ignore", "--show-error": "ignore", "-v": "ignore",
    "--verbose": "ignore", "-i": "ignore", "--include": "ignore", "-f": "ignore", "--fail": "ignore",
    "--fail-with-body": "ignore", "-g": "ignore", "--globoff": "ignore", "-N": "ignore",
    "--no-buffer": "ignore", "--path-as-is": "ignore", "--raw": "ignore", "-#": "ignore",
    "--progress-bar": "ignore", "--http1.0": "ignore", "--http1.1": "ignore", "--http2": "ignore",
    "--http2-prior-knowledge": "ignore", "--http3": "ignore", "--tlsv1": "ignore", "--tlsv1.0": "ignore",
    "--tlsv1.1": "ignore", "--tlsv1.2": "ignore", "--tlsv1.3": "ignore", "-1": "ignore", "-2": "ignore",
    "-3": "ignore", "-4": "ignore", "-6": "ignore", "--ipv4": "ignore", "--ipv6": "ignore", "-O": "ignore",
    "--remote-name": "ignore", "-J": "ignore", "--remote-header-name": "ignore", "-Z": "ignore",
    "--parallel": "ignore", "--no-keepalive": "ignore", "--tcp-nodelay": "ignore",
    "--no-progress-meter": "ignore", "-q": "ignore", "--disable": "ignore", "--ssl-no-revoke": "ignore",
    "--basic": "ignore", "--anyauth": "ignore",
    "--digest": "digest", "--ntlm": "digest", "--negotiate": "digest",
}
# fmt: on
