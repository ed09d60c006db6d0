"""A dev server that exits while starting because a port it binds is taken is started again."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from config.settings import Settings
from devstack.output import Output
from devstack.supervisor import Stack
from tests.support import free_port


class ReleasingOutput(Output):
    """Lets the taken port go as soon as the stack says it starts the dev server again."""

    def __init__(self, holder: socket.socket) -> None:
        super().__init__(io.StringIO(), tty=False)
        self.holder = holder
        self.said: list[str] = []

    def say(self, message: str) -> None:
        self.said.append(message)
        self.holder.close()
        super().say(message)


async def test_a_dev_server_that_exits_on_a_taken_port_is_started_again(tmp_path: Path) -> None:
    ui_port = free_port()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", ui_port))
    holder.listen()
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=ui_port,
    )
    output = ReleasingOutput(holder)
    stack = Stack(settings, output)
    try:
        client = await stack._start_temporal()
        info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        assert info.server_version  # the second dev server answers
        assert len(stack.children) == 1  # the one that exited is not kept, nor stopped later
    finally:
        await stack.stop()
        holder.close()
    assert len(output.said) == 1 and "while starting; starting it again" in output.said[0]
