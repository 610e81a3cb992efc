from empllm.backends.transcript import render_transcript, transcript_stops
from empllm.types import Message


def test_transcript_labels_turns_and_leaves_assistant_open():
    text = render_transcript(
        [
            Message(role="system", content="A kind listener."),
            Message(role="user", content="I failed my exam."),
            Message(role="assistant", content="That sounds painful."),
            Message(role="user", content="我很难过。"),
        ]
    )
    assert text.startswith("A kind listener.\n")
    assert "User: I failed my exam.\nAssistant: That sounds painful.\nUser: 我很难过。" in text
    assert text.endswith("\nAssistant:")


def test_stops_include_next_speaker_and_extra_without_duplicates():
    stops = transcript_stops(("\nUser:", "###"))
    assert stops.count("\nUser:") == 1
    assert "###" in stops and "\nAssistant:" in stops
