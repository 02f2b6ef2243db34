"""Messages to WeCom, DingTalk and Feishu: group robots fed by notification routes (with
each robot's rate limit as a queue) and direct messages through a WeCom or DingTalk app.
See docs/im.md and decision 0031."""
