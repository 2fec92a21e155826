BEAT = {
    "chat-expire-offers": {"task": "chat.tasks.expire_offers", "schedule": 10.0},
}
