"""Host names and fake public addresses shared by the egress tests (see conftest.net)."""

PUBLIC_NAME = "api.example-test.com"  # resolves to PUBLIC_IP, which the guard sends to 127.0.0.1
PUBLIC_IP = "140.82.112.5"
PUBLIC_IP_2 = "93.184.216.34"
PUBLIC_V6 = "2606:50c0:8000::153"

# Names that resolve to addresses the guard must refuse.
PRIVATE_ANSWERS: dict[str, tuple[str, ...]] = {
    "private.example-test.com": ("10.0.0.5",),
    "rfc1918-b.example-test.com": ("172.16.3.4",),
    "rfc1918-c.example-test.com": ("192.168.1.10",),
    "loop.example-test.com": ("127.0.0.1",),
    "loop6.example-test.com": ("::1",),
    "linklocal.example-test.com": ("169.254.169.254",),
    "ecs-meta.example-test.com": ("169.254.170.2",),
    "alibaba-meta.example-test.com": ("100.100.100.200",),
    "ula.example-test.com": ("fd00::1",),
    "aws-meta6.example-test.com": ("fd00:ec2::254",),
    "mapped.example-test.com": ("::ffff:10.0.0.1",),
    "mapped-public.example-test.com": ("::ffff:140.82.112.5",),
    "cgnat.example-test.com": ("100.64.0.1",),
    "zero.example-test.com": ("0.0.0.0",),
    "mcast.example-test.com": ("224.0.0.251",),
    "bcast.example-test.com": ("255.255.255.255",),
    "nat64.example-test.com": ("64:ff9b::a00:1",),
    "nat64-local.example-test.com": ("64:ff9b:1::a00:1",),
    "teredo.example-test.com": ("2001:0:4136:e378:8000:63bf:3fff:fdd2",),
    "sixtofour.example-test.com": ("2002:a00:1::1",),
    "sitelocal.example-test.com": ("fec0::1",),
    "doc6.example-test.com": ("3fff::1",),
    "v6ll.example-test.com": ("fe80::1",),
    "benchmark.example-test.com": ("198.18.0.1",),
    "relay.example-test.com": ("192.88.99.1",),
    "reserved.example-test.com": ("240.0.0.1",),
    "ietf.example-test.com": ("192.0.0.192",),
    # Mixed answers: one bad answer refuses the whole name, wherever it sits.
    "mixed.example-test.com": ("140.82.112.5", "10.0.0.5"),
    "mixed-first.example-test.com": ("127.0.0.1", "140.82.112.5"),
    "mixed-late.example-test.com": ("140.82.112.5", "93.184.216.34", "192.168.1.1"),
    "mixed6.example-test.com": ("140.82.112.5", "::1"),
    "mixed-v6-ula.example-test.com": ("2606:50c0:8000::153", "fd12:3456::1"),
}
