"""Target URL rules (docs/webhooks.md): schemes, credentials, and every resolved address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.webhooks.errors import TargetUrlError
from schemashift.webhooks.urls import (
    ResolutionError,
    Resolver,
    UrlPolicy,
    check_address,
    validate_target_url,
)

DEFAULT = UrlPolicy()


def resolver_to(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        del host, port
        return addresses

    return resolve


def unresolvable(host: str, port: int) -> Sequence[str]:
    raise ResolutionError(f"cannot resolve {host!r}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://[::1]:9000/hook",
        "https://8.8.8.8/hook",
        "https://[2001:4860:4860::8888]/x?y=1",
    ],
)
def test_loopback_and_public_literals_are_allowed(url: str) -> None:
    target = validate_target_url(url, DEFAULT, unresolvable)
    assert target.addresses


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://127.0.0.1:70/", "http or https"),
        ("http://user:pw@8.8.8.8/", "user name or password"),
        ("http://8.8.8.8/#frag", "fragment"),
        ("http:///nohost", "name a host"),
        ("http://8.8.8.8:99999/", "malformed"),
        ("http://8.8.8.8/a b", "whitespace"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://100.100.100.200/", "metadata"),
        ("http://169.254.1.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.5/", "non-routable"),
        ("http://192.168.1.1/", "non-routable"),
        ("http://172.16.0.1/", "non-routable"),
        ("http://100.64.0.1/", "non-routable"),
        ("http://[fc00::1]/", "non-routable"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
    ],
)
def test_refused_urls_say_why(url: str, fragment: str) -> None:
    with pytest.raises(TargetUrlError) as info:
        validate_target_url(url, DEFAULT, unresolvable)
    assert fragment in info.value.message


def test_every_resolved_address_is_checked() -> None:
    """One public and one metadata address: the name is refused (no first-answer luck)."""
    with pytest.raises(TargetUrlError, match="metadata"):
        validate_target_url(
            "https://hooks.example.com/x", DEFAULT, resolver_to("8.8.8.8", "169.254.169.254")
        )


def test_a_name_is_resolved_and_its_addresses_kept() -> None:
    target = validate_target_url(
        "https://hooks.example.com:8443/x", DEFAULT, resolver_to("8.8.8.8", "8.8.4.4", "8.8.8.8")
    )
    assert (target.host, target.port, target.scheme) == ("hooks.example.com", 8443, "https")
    assert [str(a) for a in target.addresses] == ["8.8.8.8", "8.8.4.4"]


def test_an_unresolvable_name_is_a_resolution_error() -> None:
    with pytest.raises(ResolutionError):
        validate_target_url("https://nowhere.invalid/", DEFAULT, unresolvable)


def test_the_allow_list_overrides_every_rule() -> None:
    """An operator can allow a private network and even the metadata address, explicitly."""
    policy = UrlPolicy.from_strings(["10.0.0.0/8", "169.254.169.254/32"])
    assert validate_target_url("http://10.1.2.3/", policy, unresolvable)
    assert validate_target_url("http://169.254.169.254/", policy, unresolvable)
    with pytest.raises(TargetUrlError):
        validate_target_url("http://192.168.0.1/", policy, unresolvable)


def test_loopback_can_be_switched_off() -> None:
    policy = UrlPolicy(allow_loopback=False)
    with pytest.raises(TargetUrlError, match="loopback"):
        validate_target_url("http://127.0.0.1:8080/", policy, unresolvable)
    with pytest.raises(TargetUrlError, match="loopback"):
        validate_target_url("http://localhost/", policy, resolver_to("127.0.0.1", "::1"))


def test_the_policy_reads_the_server_environment() -> None:
    policy = UrlPolicy.from_env(
        {
            "SCHEMASHIFT_WEBHOOK_ALLOW": "10.0.0.0/8, fd00::/8",
            "SCHEMASHIFT_WEBHOOK_ALLOW_LOOPBACK": "false",
        }
    )
    assert [str(n) for n in policy.allow] == ["10.0.0.0/8", "fd00::/8"]
    assert not policy.allow_loopback
    assert UrlPolicy.from_env({}) == UrlPolicy()
    with pytest.raises(TargetUrlError):
        UrlPolicy.from_env({"SCHEMASHIFT_WEBHOOK_ALLOW_LOOPBACK": "maybe"})


def test_a_bad_allow_list_entry_is_refused() -> None:
    with pytest.raises(TargetUrlError):
        UrlPolicy.from_strings(["not-a-network"])


@settings(max_examples=100)
@given(st.ip_addresses())
def test_link_local_is_refused_and_global_allowed_for_any_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """The rule order holds for every address: link-local never passes, global always does."""
    reason = check_address(address, DEFAULT)
    plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    judged = plain or address
    if judged.is_link_local:
        assert reason is not None
    elif judged.is_loopback or (judged.is_global and not judged.is_multicast):
        assert reason is None
    else:
        assert reason is not None


@pytest.mark.parametrize(
    ("url", "addresses", "pinned", "host"),
    [
        ("http://hooks.example/x?y=1", ["8.8.8.8"], "http://8.8.8.8:80/x?y=1", "hooks.example"),
        ("https://hooks.example:8443", ["8.8.8.8"], "https://8.8.8.8:8443/", "hooks.example:8443"),
        (
            "https://hooks.example/p",
            ["2001:4860::8888"],
            "https://[2001:4860::8888]:443/p",
            "hooks.example",
        ),
        ("http://[2001:4860::1]:81/p", [], "http://[2001:4860::1]:81/p", "[2001:4860::1]:81"),
    ],
)
def test_requests_are_pinned_to_the_checked_address(
    url: str, addresses: list[str], pinned: str, host: str
) -> None:
    """The request goes to the first checked address; Host keeps the URL's name and port."""
    from schemashift.webhooks.sender import _host_header, pinned_url

    target = validate_target_url(url, DEFAULT, resolver_to(*addresses))
    assert pinned_url(target) == pinned
    assert _host_header(target) == host
