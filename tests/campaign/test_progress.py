import io

from axojax.campaign._progress import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_stream_gets_one_line_per_update():
    stream = io.StringIO()
    bar = ProgressBar(4, done=1, stream=stream, width=8)
    bar.update()
    bar.update(failed=3)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "resuming: 1/4 chunks already finished"
    assert lines[1] == "campaign [##......] 1/4 chunks"
    assert lines[2].startswith("campaign [####....] 2/4 chunks, ") and "s/chunk, eta" in lines[2]
    assert lines[3].startswith("campaign [######..] 3/4 chunks, 3 failed, ")
    assert "\r" not in stream.getvalue()


def test_terminal_redraws_in_place():
    stream = _Terminal()
    bar = ProgressBar(2, stream=stream, width=4)
    bar.update()
    bar.update()
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "campaign [####] 2/2 chunks" in text


def test_disabled_is_silent(capsys):
    bar = ProgressBar(3, done=1, enabled=False)
    bar.update()
    bar.close()
    assert capsys.readouterr() == ("", "")
    bar = ProgressBar(1)  # default stream: stderr
    bar.update()
    assert "1/1 chunks" in capsys.readouterr().err
