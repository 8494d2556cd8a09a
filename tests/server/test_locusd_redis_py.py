"""locusd with redis-py (Debian's python3-redis), run by ctest under /usr/bin/python3 -m pytest.

Starts the locusd binary named by $LOCUSD on a free loopback port, talks to it with redis-py,
and stops it. Covers what locusd answers so far (docs/PROTOCOL.md): PING, ECHO, HELLO,
unknown commands and arity errors as redis-py raises them, and a pipeline of 1,000 commands.
"""
import os
import re
import subprocess

import pytest
import redis


@pytest.fixture(scope="module")
def port():
    proc = subprocess.Popen([os.environ["LOCUSD"], "--port", "0", "--bind", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on port (\d+)", line)
    assert match, f"locusd did not start: {line!r}"
    yield int(match.group(1))
    proc.terminate()
    assert proc.wait(timeout=10) == 0


@pytest.fixture
def client(port):
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    yield c
    c.close()


def test_ping_and_echo(client):
    assert client.ping() is True
    assert client.echo("hello world") == b"hello world"
    assert client.echo(b"\x00\r\n\xff") == b"\x00\r\n\xff"


def test_hello_reports_resp2_and_the_redis_release_it_matches(client):
    reply = client.execute_command("HELLO", "2")
    fields = dict(zip(reply[::2], reply[1::2]))
    assert fields[b"proto"] == 2
    assert fields[b"version"] == b"7.0.15"
    assert fields[b"server"] == b"redis"


def test_errors_are_raised_with_redis_messages(client):
    with pytest.raises(redis.ResponseError,
                       match=r"unknown command 'NOSUCH', with args beginning with: 'a' "):
        client.execute_command("NOSUCH", "a")
    with pytest.raises(redis.ResponseError,
                       match=r"wrong number of arguments for 'echo' command"):
        client.execute_command("ECHO")
    assert client.ping() is True  # the connection is still good


def test_a_pipeline_of_a_thousand_commands(client):
    pipe = client.pipeline(transaction=False)
    for i in range(1000):
        pipe.echo(str(i))
    assert pipe.execute() == [str(i).encode() for i in range(1000)]
