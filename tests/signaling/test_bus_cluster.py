"""On Redis Cluster the bus uses sharded pub/sub on the slot's node, and every key carries one hash tag."""

from __future__ import annotations

from signlink.redisio import Keyspace, connect
from signlink.redisio.client import endpoint_for
from signlink.signaling.bus import Bus, BusMessage
from tests.support.redis_proc import ClusterProcesses, command


async def test_the_bus_subscribes_with_ssubscribe_on_the_node_of_the_deployments_slot(
    redis_cluster: ClusterProcesses,
) -> None:
    client = connect(redis_cluster.url, slot_key="{bt}")
    got: list[tuple[str, BusMessage]] = []
    bus = Bus(client, Keyspace("bt", hash_tag=True), lambda party, message: got.append((party, message)))
    await bus.start()
    try:
        await bus.subscribe("c:t000000000001")
        channel = bus.channel("c:t000000000001")
        assert channel.startswith("{bt}:bus:")
        owner = await endpoint_for(client, channel)
        assert command(owner.port, "PUBSUB", "SHARDNUMSUB", channel).endswith(b":1\r\n")
        assert command(owner.port, "PUBSUB", "NUMSUB", channel).endswith(b":0\r\n")  # not classic pub/sub
    finally:
        await bus.close()
        await client.aclose()
