TEXTS: dict[str, str] = {
    # to the resident
    "escalation.voice_script": (
        "Hello {name}, this is the mimamori service. Your electricity use looks different from usual today, "
        "so we are calling just in case. If you are fine, please press 1."
    ),
    "escalation.voice_thanks": "Thank you. We are glad you are fine, and we will let your family know. Goodbye.",
    "escalation.voice_no_input": "We could not hear your answer. We will call again a little later. Goodbye.",
    "escalation.sms_checkin": (
        "{name}, this is mimamori. Are you doing well? If you are fine, please open this link within "
        "{minutes} minutes and press \"I'm fine\". {url}"
    ),
    "escalation.line_checkin": (
        "Hello {name}, this is mimamori. Are you doing well? If you are fine, please tap \"OK\"."
    ),
    "escalation.line_checkin_ok": "OK",
    "escalation.checkin_page_title": "mimamori safety check",
    "escalation.checkin_page_question": "Are you doing well? If you are fine, please press the button below.",
    "escalation.checkin_button": "I'm fine",
    "escalation.checkin_thanks": "Thank you. We have let your family know you are fine.",
    "escalation.checkin_refused": (
        "Sorry, this link has expired or has already been used. Please contact your family directly."
    ),
    # to the family
    "escalation.alert_title": "Please check on {name}",
    "escalation.alert_kind.no_wake": "Electricity use has not started, although the usual waking time has passed.",
    "escalation.alert_kind.inactivity": "There has been almost no electricity use for a long time.",
    "escalation.alert_kind.flat_usage": "Electricity use shows none of its usual changes.",
    "escalation.evidence_last_activity": "Activity was last seen around {time}.",
    "escalation.resident_tried.voice": "We called them ({attempts} times) but could not reach them.",
    "escalation.resident_tried.sms": "We asked them by SMS but have had no answer.",
    "escalation.resident_tried.line": "We asked them on LINE but have had no answer.",
    "escalation.resident_not_contacted": "They are not contacted directly in this setup, so we are telling the family.",
    "escalation.also_told": "This message was also sent to {names}.",
    "escalation.only_you": "For now, this message has been sent to you.",
    "escalation.ack_button": "I'll handle it",
    "escalation.call_button": "Call",
    "escalation.graph_button": "See the graph",
    "escalation.safe_button": "They are safe",
    "escalation.email_subject": "[mimamori] Please check on {name}",
    "escalation.email_ack_link": "If you can handle it, please open this link (we will tell the others): {url}",
    "escalation.ack_page_question": "Can you handle the alert about {name}? Pressing tells the others.",
    "escalation.ack_page_done": "Thank you. We have told the others that you are handling it.",
    "escalation.ack_page_already": "Someone is already handling this, or it is over. Thank you.",
    # to the landlord group and the dispatch partner
    "escalation.landlord_title": "Please check on {unit}",
    "escalation.landlord_body": "The family has been told, but nobody has said they are handling it yet.",
    "escalation.landlord_ack_button": "I'll go and check",
    "escalation.dispatch_subject": "[mimamori] Visit request ({unit})",
    "escalation.dispatch_body": "Please visit.\nAddress: {address}\nSituation: {summary}\nReference: {incident}",
    # notices (not emergencies)
    "escalation.notice.over_usage": "Electricity use at {name}'s home is higher than usual today.",
    "escalation.notice.usage_resumed": "Electricity use has started at {name}'s home: they seem to be up and about.",
    "escalation.notice.data_gap": (
        "Meter data from {name}'s home is not arriving, so watching is limited for now. It resumes once data arrives."
    ),
    "escalation.notice.night_activity": "Electricity is still in use at {name}'s home past their bedtime.",
    "escalation.notice_subject": "[mimamori] About {name}",
    # policy errors (ValidationError codes from core.escalation.policy.validate_policy)
    "escalation.policy_no_steps": "The contact steps are empty. Please set at least one step.",
    "escalation.policy_unknown_field": "The settings contain an unknown item.",
    "escalation.policy_unknown_step": "The settings contain an unknown step.",
    "escalation.policy_duplicate_step": "The same step appears twice.",
    "escalation.policy_order": "Please keep the order: resident, family, landlord, then dispatch.",
    "escalation.policy_needs_family": "Contacting the family must be part of the steps.",
    "escalation.policy_bad_value": "A setting has an invalid value.",
    "escalation.policy_out_of_range": "A setting is outside the allowed range.",
}
