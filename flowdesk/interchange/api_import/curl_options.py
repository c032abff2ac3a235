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
    "-Y": "ignore", "--speed-limit": "ignore", "-y": "ignore", "--speed-time": "ignore", "-r": "range",
    "--range": "range", "-U": "ignore", "--proxy-user": "ignore", "--cert-type": "ignore",
    "--key-type": "ignore", "--ciphers": "ignore", "--tls-max": "ignore",
    "-T": "upload-file", "--upload-file": "upload-file",
    "--url-query": "url-query",
    "--aws-sigv4": "aws-sigv4",
    "--stderr": "ignore", "--libcurl": "ignore", "--parallel-max": "ignore", "--keepalive-time": "ignore",
    "--expect100-timeout": "ignore", "--happy-eyeballs-timeout-ms": "ignore", "--dns-servers": "ignore",
    "--dns-interface": "ignore", "--dns-ipv4-addr": "ignore", "--dns-ipv6-addr": "ignore",
    "--local-port": "ignore", "--alt-svc": "ignore", "--hsts": "ignore", "--etag-compare": "ignore",
    "--etag-save": "ignore", "--output-dir": "ignore", "--create-file-mode": "ignore",
    "--max-filesize": "ignore", "--rate": "ignore", "--noproxy": "ignore", "--netrc-file": "ignore",
    "--proto": "ignore", "--proto-default": "ignore", "--proto-redir": "ignore", "--curves": "ignore",
    "--tls13-ciphers": "ignore", "--pinnedpubkey": "ignore", "--crlfile": "ignore", "--random-file": "ignore",
    "--egd-file": "ignore", "--doh-url": "ignore",
    "-x": "proxy", "--proxy": "proxy", "--preproxy": "proxy", "--proxy1.0": "proxy", "--socks4": "proxy",
    "--socks4a": "proxy", "--socks5": "proxy", "--socks5-hostname": "proxy",
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
    "--create-dirs": "ignore", "--remote-time": "ignore", "--retry-all-errors": "ignore",
    "--retry-connrefused": "ignore", "--fail-early": "ignore", "--styled-output": "ignore",
    "--trace-time": "ignore", "--no-clobber": "ignore", "--remove-on-error": "ignore", "--xattr": "ignore",
    "--remote-name-all": "ignore", "--parallel-immediate": "ignore", "--suppress-connect-headers": "ignore",
    "--tcp-fastopen": "ignore", "--no-sessionid": "ignore", "--no-alpn": "ignore", "--no-npn": "ignore",
    "--false-start": "ignore", "--cert-status": "ignore", "--ssl-allow-beast": "ignore",
    "--ssl-auto-client-cert": "ignore", "--ssl-revoke-best-effort": "ignore", "--http0.9": "ignore",
    "--http3-only": "ignore", "--netrc-optional": "ignore", "--proxytunnel": "ignore",
    "--proxy-insecure": "ignore", "--proxy-basic": "ignore", "--proxy-anyauth": "ignore",
    "--proxy-digest": "ignore", "--proxy-ntlm": "ignore", "--proxy-negotiate": "ignore", "--sslv2": "ignore",
    "--sslv3": "ignore", "--ssl": "ignore", "--ssl-reqd": "ignore", "--doh-insecure": "ignore",
    "--doh-cert-status": "ignore", "--compressed-ssh": "ignore", "--haproxy-protocol": "ignore",
    "--basic": "basic", "--anyauth": "ignore",
    "--digest": "digest", "--ntlm": "ntlm", "--ntlm-wb": "ntlm", "--negotiate": "ntlm",
}
# fmt: on

# Every long option curl 7.88 knows (`curl --help all`): an abbreviation is read as the one option it starts,
# as curl does, and one that starts several is refused as ambiguous, also as curl does.
ALL_LONG_OPTIONS: tuple[str, ...] = tuple(
    sorted(
        {n for n in [*VALUE_OPTIONS, *FLAG_OPTIONS] if n.startswith("--")}
        | set(
            """
--abstract-unix-socket --alt-svc --anyauth --append --aws-sigv4 --basic --cacert --capath --cert --cert-status
--cert-type --ciphers --compressed --compressed-ssh --config --connect-timeout --connect-to --continue-at --cookie
--cookie-jar --create-dirs --create-file-mode --crlf --crlfile --curves --data --data-ascii --data-binary
--data-raw --data-urlencode --delegation --digest --disable --disable-eprt --disable-epsv
--disallow-username-in-url --dns-interface --dns-ipv4-addr --dns-ipv6-addr --dns-servers --doh-cert-status
--doh-insecure --doh-url --dump-header --egd-file --engine --etag-compare --etag-save --expect100-timeout --fail
--fail-early --fail-with-body --false-start --form --form-escape --form-string --ftp-account
--ftp-alternative-to-user --ftp-create-dirs --ftp-method --ftp-pasv --ftp-port --ftp-pret --ftp-skip-pasv-ip
--ftp-ssl-ccc --ftp-ssl-ccc-mode --ftp-ssl-control --get --globoff --happy-eyeballs-timeout-ms --haproxy-protocol
--head --header --help --hostpubmd5 --hostpubsha256 --hsts --http0.9 --http1.0 --http1.1 --http2
--http2-prior-knowledge --http3 --http3-only --ignore-content-length --include --insecure --interface --ipv4
--ipv6 --json --junk-session-cookies --keepalive-time --key --key-type --krb --libcurl --limit-rate --list-only
--local-port --location --location-trusted --login-options --mail-auth --mail-from --mail-rcpt
--mail-rcpt-allowfails --manual --max-filesize --max-redirs --max-time --metalink --negotiate --netrc --netrc-file
--netrc-optional --next --no-alpn --no-buffer --no-clobber --no-keepalive --no-npn --no-progress-meter
--no-sessionid --noproxy --ntlm --ntlm-wb --oauth2-bearer --output --output-dir --parallel --parallel-immediate
--parallel-max --pass --path-as-is --pinnedpubkey --post301 --post302 --post303 --preproxy --progress-bar --proto
--proto-default --proto-redir --proxy --proxy-anyauth --proxy-basic --proxy-cacert --proxy-capath --proxy-cert
--proxy-cert-type --proxy-ciphers --proxy-crlfile --proxy-digest --proxy-header --proxy-insecure --proxy-key
--proxy-key-type --proxy-negotiate --proxy-ntlm --proxy-pass --proxy-pinnedpubkey --proxy-service-name
--proxy-ssl-allow-beast --proxy-ssl-auto-client-cert --proxy-tls13-ciphers --proxy-tlsauthtype --proxy-tlspassword
--proxy-tlsuser --proxy-tlsv1 --proxy-user --proxy1.0 --proxytunnel --pubkey --quote --random-file --range --rate
--raw --referer --remote-header-name --remote-name --remote-name-all --remote-time --remove-on-error --request
--request-target --resolve --retry --retry-all-errors --retry-connrefused --retry-delay --retry-max-time
--sasl-authzid --sasl-ir --service-name --show-error --silent --socks4 --socks4a --socks5 --socks5-basic
--socks5-gssapi --socks5-gssapi-nec --socks5-gssapi-service --socks5-hostname --speed-limit --speed-time --ssl
--ssl-allow-beast --ssl-auto-client-cert --ssl-no-revoke --ssl-reqd --ssl-revoke-best-effort --sslv2 --sslv3
--stderr --styled-output --suppress-connect-headers --tcp-fastopen --tcp-nodelay --telnet-option --tftp-blksize
--tftp-no-options --time-cond --tls-max --tls13-ciphers --tlsauthtype --tlspassword --tlsuser --tlsv1 --tlsv1.0
--tlsv1.1 --tlsv1.2 --tlsv1.3 --tr-encoding --trace --trace-ascii --trace-time --unix-socket --upload-file --url
--url-query --use-ascii --user --user-agent --verbose --version --write-out --xattr
""".split()
        )
    )
)

# Options whose "--no-" form curl accepts: the boolean ones (curl's own --no-buffer etc. are listed as given).
NEGATABLE: frozenset[str] = frozenset(
    name for name in ALL_LONG_OPTIONS if name in FLAG_OPTIONS and not name.startswith("--no-")
)
