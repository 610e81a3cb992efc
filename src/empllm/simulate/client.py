"""The client agent: plays a persona card, reveals gradually, keeps a hidden state each turn."""

from __future__ import annotations

from empllm.ask_and_parse import generate_parsed
from empllm.json_output import ParseError, parse_json_object
from empllm.prompts import render
from empllm.record_parsing import parse_client_state
from empllm.runtime import Runtime
from empllm.simulate import json_schemas
from empllm.simulate import transcript_style as ts
from empllm.simulate.agent_output import ModelAgent
from empllm.types import ClientState, Message, Persona, Turn


def client_view(profile: str, turns, lang: str) -> str:
    """A session as the client sees it: their profile, their state before each message."""
    lines = [f"{'Profile' if lang == 'en' else '人物'}{ts.LABELS[lang].colon}{' '.join(profile.split())}"]
    for turn in turns:
        state = getattr(turn, "client_state", None) or getattr(turn, "state", None)
        if turn.role == "client" and state is not None:
            lines.append(ts.state_line(state, lang))
        lines.append(ts.speaker_line(turn.role, turn.content, lang))
        if getattr(turn, "end", False):
            lines.append(ts.LABELS[lang].end)
    return "\n".join(lines)


def initial_state(persona: Persona) -> ClientState:
    return ClientState(emotion_intensity=persona.starting_intensity, trust=persona.starting_trust)


class ClientAgent(ModelAgent):
    def __init__(self, runtime: Runtime, persona: Persona, **agent_settings):
        super().__init__(runtime, **agent_settings)
        self.persona = persona
        self.language = persona.language

    def opening(self) -> Turn:
        """The first message is the card's own opening line: every session starts in character."""
        return Turn(role="client", content=self.persona.opening_line, client_state=initial_state(self.persona))

    def _state(self, turns: list[Turn]) -> ClientState:
        return next(t.client_state for t in reversed(turns) if t.role == "client" and t.client_state)

    async def respond(self, turns: list[Turn], *, can_end: bool) -> tuple[Turn, bool]:
        """The client's next message and whether they end the session with it."""
        lang, previous = self.language, self._state(turns)
        seed = None if self.gen.seed is None else self.gen.seed + len(turns) * 10 + 3
        gen = self.gen.model_copy(update={"seed": seed})
        if self.chat_style:
            gen = self._json(gen, json_schemas.client_answer())
            system = render("client_system", lang, p=self.persona, state=previous, can_end=can_end)
            msgs = [Message(role="system", content=system), Message(role="user", content=render("session_start", lang))]
            for t in turns:
                msgs.append(Message(role="assistant" if t.role == "client" else "user", content=t.content))

            async def ask(attempt: int) -> str:
                return self._count(await self.runtime.chat(msgs, gen, sample_index=attempt))

            def parse(text: str) -> tuple[ClientState, str, bool]:
                data = parse_json_object(text)
                message = str(data.get("message", "")).strip()
                if not message:
                    raise ParseError("the answer has no 'message'")
                if not isinstance(data.get("state"), dict):
                    raise ParseError("the answer has no 'state' object")
                ended = str(data.get("end_session", False)).strip().lower() in {"true", "1", "yes"}
                return parse_client_state(data["state"], previous), self._checked(message, turns), ended
        else:
            primer = ts.state_primer(lang)
            profile = render("client_profile", lang, p=self.persona)
            blocks = [client_view(ex.client_profile, ex.turns, ex.language) for ex in self.exemplars]
            # the profile line opens the live session and stays the same all session: shared too
            head, _, rest = client_view(profile, turns, lang).partition("\n")
            prompt, shared = ts.few_shot_prompt("client_transcript", lang, blocks, head, rest)
            prompt += "\n" + primer
            grammar = ts.state_grammar(lang, can_end=can_end) if self.constrain else None
            gen = gen.model_copy(update={"stop": ts.stops(lang, next_speaker="psychologist"), "grammar": grammar,
                                         "shared_prefix": self._shared(shared)})  # fmt: skip

            async def ask(attempt: int) -> str:
                return self._count(await self.runtime.complete(prompt, gen, sample_index=attempt))

            def parse(text: str) -> tuple[ClientState, str, bool]:
                fields, message, ended = ts.parse_client_output(primer, text, lang)
                return parse_client_state(fields, previous), self._checked(message, turns), ended

        (state, message, ended), raw, rejected = await generate_parsed(ask, parse, self.attempts, "client turn")
        return Turn(role="client", content=message, client_state=state, rejected=rejected), ended and can_end

    def _checked(self, message: str, turns: list[Turn]) -> str:
        if self.checks is not None and (why := self.checks.client(message, turns)):
            raise ParseError(why)
        return message
