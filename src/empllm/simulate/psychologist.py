"""The psychologist agent: a session plan after the opening, then contemplate -> reply each turn.

Chat-tuned models get a system prompt and answer JSON; base models continue a transcript of
hand-written exemplar sessions, primed with the notes label (see transcript_style).
"""

from __future__ import annotations

from empllm.ask_and_parse import generate_parsed
from empllm.backends.base import GenerationSettings
from empllm.json_output import ParseError, parse_json_object
from empllm.prompts import render
from empllm.record_parsing import parse_contemplation, strategy_label
from empllm.runtime import Runtime
from empllm.simulate import json_schemas
from empllm.simulate import transcript_style as ts
from empllm.simulate.agent_output import ModelAgent
from empllm.types import Contemplation, Emotion, Message, SessionPlan, Stance, Strategy, Turn


def psychologist_view(turns, plan_goals: list[str] | None, lang: str) -> str:
    """A session as the counselor sees it (no client profile or state). Works for live turns and
    for exemplar turns alike: both have role, content, contemplation (and exemplars `end`)."""
    lines = []
    for i, turn in enumerate(turns):
        if turn.role == "psychologist" and turn.contemplation is not None:
            lines.append(ts.notes_line(turn.contemplation, lang))
        lines.append(ts.speaker_line(turn.role, turn.content, lang))
        if i == 0 and plan_goals:
            lines.append(ts.plan_line(plan_goals, lang))
        if getattr(turn, "end", False):
            lines.append(ts.LABELS[lang].end)
    return "\n".join(lines)


class PsychologistAgent(ModelAgent):
    def __init__(self, runtime: Runtime, *, language: str, stance: Stance, openers: bool = False,
                 instructions: str = "", **agent_settings):  # fmt: skip
        super().__init__(runtime, **agent_settings)
        self.language = language
        self.stance = stance
        self.instructions = instructions  # an operator's system message, added to the chat-style prompt
        # base models: write the notes line alone, then start the reply with an opener for the
        # strategy the notes chose (prompts/*/reply_opener.j2). Grammar-constrained lines keep one call.
        self.openers = openers and not self.constrain

    # -- the conversation as this agent sees it -------------------------------------------------
    def _messages(self, turns: list[Turn], plan: SessionPlan | None) -> list[Message]:
        system = render(
            "psychologist_system",
            self.language,
            stance=self.stance,
            emotions=", ".join(e.value for e in Emotion),
            strategies=", ".join(s.value for s in Strategy),
            plan="; ".join(plan.goals) if plan else "",
        )
        if self.instructions:
            system += "\n\n" + self.instructions
        msgs = [Message(role="system", content=system)]
        for t in turns:
            msgs.append(Message(role="user" if t.role == "client" else "assistant", content=t.content))
        return msgs

    def _transcript(self, turns: list[Turn], plan: SessionPlan | None) -> tuple[str, int]:
        """The prompt, and how much of it (the exemplars) every call of the session shares."""
        blocks = [psychologist_view(ex.turns, ex.plan, ex.language) for ex in self.exemplars]
        live = psychologist_view(turns, plan.goals if plan else None, self.language)
        return ts.few_shot_prompt("psychologist_transcript", self.language, blocks, "", live, stance=self.stance)

    def _gen(self, seed_offset: int) -> GenerationSettings:
        seed = None if self.gen.seed is None else self.gen.seed + seed_offset
        return self.gen.model_copy(update={"seed": seed})

    # -- plan ---------------------------------------------------------------------------------------
    async def make_plan(self, turns: list[Turn], current: SessionPlan | None = None) -> tuple[SessionPlan, str]:
        lang = self.language
        if self.chat_style:
            msgs = self._messages(turns, current)
            request = render("psychologist_plan", lang, revise=current is not None,
                             plan="; ".join(current.goals) if current else "")  # fmt: skip
            msgs[-1] = Message(role=msgs[-1].role, content=f"{msgs[-1].content}\n\n---\n{request}")

            plan_gen = self._json(self._gen(len(turns) * 10 + 7), json_schemas.session_plan())

            async def ask(attempt: int) -> str:
                return self._count(await self.runtime.chat(msgs, plan_gen, sample_index=attempt))

            def parse(text: str) -> list[str]:
                goals = parse_json_object(text).get("goals")
                if not isinstance(goals, list) or not [g for g in goals if str(g).strip()]:
                    raise ParseError("the plan has no 'goals' list")
                return [str(g).strip() for g in goals if str(g).strip()][:4]
        else:
            primer = ts.LABELS[lang].plan + ts.LABELS[lang].colon
            prompt, shared = self._transcript(turns[:1], None)
            prompt += "\n" + primer
            gen = self._gen(7).model_copy(
                update={"max_tokens": 80, "stop": ("\n",), "shared_prefix": self._shared(shared)}
            )

            async def ask(attempt: int) -> str:
                return self._count(await self.runtime.complete(prompt, gen, sample_index=attempt))

            def parse(text: str) -> list[str]:
                goals = [g.strip(" .。") for g in text.replace("；", ";").split(";") if len(g.strip(" .。")) > 2]
                if not goals:
                    raise ParseError("the plan line is empty")
                return goals[:4]

        goals, raw, _ = await generate_parsed(ask, parse, self.attempts, "session plan")
        return SessionPlan(after_turn=len(turns), goals=goals), raw

    # -- contemplate, then reply -----------------------------------------------------------------
    async def respond(self, turns: list[Turn], plan: SessionPlan | None) -> Turn:
        lang = self.language
        seed_offset = len(turns) * 10
        if self.chat_style:
            msgs = self._messages(turns, plan)
            answer_gen = self._json(self._gen(seed_offset), json_schemas.psychologist_answer())

            async def ask(attempt: int) -> str:
                return self._count(await self.runtime.chat(msgs, answer_gen, sample_index=attempt))

            def parse(text: str) -> tuple[Contemplation, str]:
                data = parse_json_object(text)
                reply = str(data.get("reply", "")).strip()
                if not reply:
                    raise ParseError("the answer has no 'reply'")
                if not isinstance(data.get("contemplation"), dict):
                    raise ParseError("the answer has no 'contemplation' object")
                return self._checked(parse_contemplation(data["contemplation"]), reply, turns)
        else:
            primer = ts.notes_primer(lang)
            prompt, shared = self._transcript(turns, plan)
            prompt += "\n" + primer
            stop = ("\n",) if self.openers else ts.stops(lang, next_speaker="client")
            gen = self._gen(seed_offset).model_copy(
                update={"stop": stop, "shared_prefix": self._shared(shared),
                        "grammar": ts.notes_grammar(lang) if self.constrain else None}
            )  # fmt: skip

            async def ask(attempt: int) -> str:
                text = self._count(await self.runtime.complete(prompt, gen, sample_index=attempt))
                return await self._finish_notes(prompt, primer, text, gen, attempt, pick=attempt + len(turns))

            def parse(text: str) -> tuple[Contemplation, str]:
                fields, reply = ts.parse_psychologist_output(primer, text, lang)
                return self._checked(parse_contemplation(fields), reply, turns)

        (contemplation, reply), raw, rejected = await generate_parsed(ask, parse, self.attempts, "psychologist turn")
        return Turn(role="psychologist", content=reply, contemplation=contemplation, rejected=rejected)

    def _checked(self, notes: Contemplation, reply: str, turns: list[Turn]) -> tuple[Contemplation, str]:
        if self.checks is not None and (why := self.checks.psychologist(notes, reply, turns)):
            raise ParseError(why)
        return notes, reply

    def _opener(self, fields: dict[str, str], pick: int) -> str:
        strategy = strategy_label(fields.get("strategy", "")) if self.openers else None
        return render("reply_opener", self.language, strategy=strategy, pick=pick) if strategy else ""

    async def _finish_notes(
        self, prompt: str, primer: str, text: str, gen: GenerationSettings, attempt: int, pick: int = 0
    ) -> str:
        """A small base model often skips the later notes fields and jumps to its reply. Ask it to
        continue the line from the first missing field (at most twice), and for the reply when it
        wrote none (always, with openers: it starts with the opener for the notes' strategy);
        returns the completed output in the same shape as a one-call answer."""
        lang, lab = self.language, ts.LABELS[self.language]
        fields, reply = ts.notes_fields(primer, text, lang)
        if not fields or (reply and not ts.missing_note_labels(fields, lang)):
            return text  # nothing usable to build on, or nothing missing
        line_gen = gen.model_copy(update={"stop": ("\n",), "max_tokens": 160, "grammar": None})
        before = prompt[: len(prompt) - len(primer)]  # the transcript up to the notes line
        for _ in range(2):
            missing = ts.missing_note_labels(fields, lang)
            if not missing:
                break
            stem = ts.notes_text_from_fields(fields, lang) + f" | {missing[0]}:"
            more = self._count(await self.runtime.complete(before + stem, line_gen, sample_index=attempt))
            fields, _ = ts.notes_fields("", stem + more, lang)
        notes_line = ts.notes_text_from_fields(fields, lang)
        if not reply:
            opener = self._opener(fields, pick)
            reply_prompt = before + notes_line + "\n" + lab.counselor + lab.colon + opener
            more = self._count(await self.runtime.complete(reply_prompt, line_gen, sample_index=attempt))
            reply = (opener + more).strip() if more.strip() else ""
        return notes_line[len(primer) :] + "\n" + lab.counselor + lab.colon + (reply or "")
