"""The test broker itself: a real mosquitto that delivers a QoS 1 message."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def test_real_mosquitto_delivers_a_message(broker):
    got = threading.Event()
    payloads = []

    def on_message(client, userdata, message):
        payloads.append(message.payload)
        got.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-sub")
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("t/x", qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-pub")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    import time

    time.sleep(0.2)
    pub.publish("t/x", b"42", qos=1).wait_for_publish(5)
    assert got.wait(5)
    assert payloads == [b"42"]
    for c in (sub, pub):
        c.loop_stop()
        c.disconnect()
