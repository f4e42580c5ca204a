"""
A port of the format checks and token counting of OpenAI's cookbook notebook examples/Chat_finetuning_data_prep.ipynb,
run beside `ftpipe validate` by bench/validate.ts. Same checks, same counting (num_tokens_from_messages: 3 per
message, every value's tokens, 1 per name, 3 for the reply), same statistics and epoch rule, with o200k_base (the
notebook's cl100k_base is an older models' encoding). Three changes, each only making it faster or able to finish:
lines are parsed one at a time instead of into a list of the whole dataset; a value that is not a string (`weight`,
`tool_calls`) is counted as its compact JSON instead of crashing `encode`; numpy's quantiles are replaced by sorted-list
quantiles (no numpy import). `encode_ordinary` stands for `encode` (the same tokens for text without special tokens,
which `encode` would refuse).

    python bench/cookbook_checks.py FILE
"""
import json
import sys
from collections import defaultdict

import tiktoken

encoding = tiktoken.get_encoding("o200k_base")


def count(value):
    return len(encoding.encode_ordinary(value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)))


def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            if key == "weight":
                continue
            num_tokens += count(value)
            if key == "name":
                num_tokens += tokens_per_name
    num_tokens += 3
    return num_tokens


def num_assistant_tokens_from_messages(messages):
    return sum(count(message.get("content") or "") for message in messages if message.get("role") == "assistant")


def quantile(sorted_values, q):
    position = q * (len(sorted_values) - 1)
    below = int(position)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)


def main(path):
    format_errors = defaultdict(int)
    n_examples = n_missing_system = n_missing_user = 0
    n_messages, convo_lens, assistant_message_lens = [], [], []
    with open(path, "r", encoding="utf-8-sig") as f:
        for line in f:
            ex = json.loads(line)
            n_examples += 1
            if not isinstance(ex, dict):
                format_errors["data_type"] += 1
                continue
            messages = ex.get("messages", None)
            if not messages:
                format_errors["missing_messages_list"] += 1
                continue
            for message in messages:
                if "role" not in message or "content" not in message:
                    format_errors["message_missing_key"] += 1
                if any(k not in ("role", "content", "name", "function_call", "weight") for k in message):
                    format_errors["message_unrecognized_key"] += 1
                if message.get("role", None) not in ("system", "user", "assistant", "function"):
                    format_errors["unrecognized_role"] += 1
                content = message.get("content", None)
                function_call = message.get("function_call", None)
                if (not content and not function_call) or not isinstance(content, str):
                    format_errors["missing_content"] += 1
            if not any(message.get("role", None) == "assistant" for message in messages):
                format_errors["example_missing_assistant_message"] += 1
            # Warnings and token counts
            if not any(message.get("role") == "system" for message in messages):
                n_missing_system += 1
            if not any(message.get("role") == "user" for message in messages):
                n_missing_user += 1
            n_messages.append(len(messages))
            convo_lens.append(num_tokens_from_messages(messages))
            assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
    distributions = {}
    for name, values in (("num_messages_per_example", n_messages), ("num_total_tokens_per_example", convo_lens), ("num_assistant_tokens_per_example", assistant_message_lens)):
        ordered = sorted(values)
        distributions[name] = {"min": ordered[0], "max": ordered[-1], "mean": sum(ordered) / len(ordered), "median": quantile(ordered, 0.5), "p10": quantile(ordered, 0.1), "p90": quantile(ordered, 0.9)}
    n_epochs = 3
    if n_examples * 3 < 100:
        n_epochs = min(25, 100 // n_examples)
    elif n_examples * 3 > 25000:
        n_epochs = max(1, 25000 // n_examples)
    print(json.dumps({
        "examples": n_examples, "format_errors": format_errors, "missing_system": n_missing_system, "missing_user": n_missing_user,
        "total_tokens": sum(convo_lens), "distributions": distributions, "too_long": sum(n > 65536 for n in convo_lens),
        "n_epochs": n_epochs, "billing_tokens": sum(min(65536, n) for n in convo_lens) * n_epochs,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
