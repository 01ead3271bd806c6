"""Messages of the consumer-care pages (complaints, alert preferences, contact details),
key -> (English, Hindi); merged into i18n.MESSAGES."""

from __future__ import annotations

from typing import Final

CARE_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # Links between an account's care pages.
    "care.account": ("Account {account_id}", "खाता {account_id}"),
    "care.contact": ("Mobile and e-mail", "मोबाइल और ई-मेल"),
    # Complaints.
    "complaints.title": ("Complaints", "शिकायतें"),
    "complaints.new": ("Make a complaint", "नई शिकायत दर्ज करें"),
    "complaints.sla": (
        "We resolve recharge and deduction complaints within 7 days, and supply not restored "
        "or a faulty meter within 3 days.",
        "रिचार्ज और कटौती से जुड़ी शिकायतों का समाधान 7 दिनों में, और बिजली बहाल न होने या मीटर "
        "की खराबी का समाधान 3 दिनों में किया जाता है।",
    ),
    "complaints.category": ("What is the complaint about?", "शिकायत किस बारे में है?"),
    "complaints.choose": ("Choose…", "चुनें…"),
    "complaints.category.recharge_not_credited": (
        "Recharge not credited",
        "रिचार्ज की राशि खाते में नहीं जुड़ी",
    ),
    "complaints.category.not_reconnected": (
        "Supply not restored after a recharge",
        "रिचार्ज के बाद भी बिजली चालू नहीं हुई",
    ),
    "complaints.category.high_deduction": (
        "Deduction too high / the meter runs fast",
        "बहुत ज़्यादा कटौती / मीटर तेज़ चल रहा है",
    ),
    "complaints.category.meter_fault": ("Meter fault", "मीटर में खराबी"),
    "complaints.category.mobile_change": (
        "Change of mobile number",
        "मोबाइल नंबर बदलवाना",
    ),
    "complaints.category.other": ("Something else", "कोई अन्य समस्या"),
    "complaints.description": ("Describe the problem", "समस्या के बारे में लिखें"),
    "complaints.description_hint": (
        "Up to {max} characters.",
        "अधिकतम {max} अक्षर।",
    ),
    "complaints.payment_reference": (
        "Payment reference, if the complaint is about a payment",
        "भुगतान संदर्भ संख्या, अगर शिकायत किसी भुगतान के बारे में है",
    ),
    "complaints.submit": ("Submit complaint", "शिकायत दर्ज करें"),
    "complaints.yours": ("Your complaints", "आपकी शिकायतें"),
    "complaints.none": (
        "You have not made any complaint about this account.",
        "आपने इस खाते के बारे में अभी तक कोई शिकायत दर्ज नहीं की है।",
    ),
    "complaints.number": ("Complaint no.", "शिकायत संख्या"),
    "complaints.opened": ("Made on", "दर्ज होने की तारीख"),
    "complaints.due": ("Due by", "समाधान की अंतिम तारीख"),
    "complaints.status": ("Status", "स्थिति"),
    "complaints.status.open": ("Open", "खुली"),
    "complaints.status.in_progress": ("Being worked on", "कार्रवाई जारी है"),
    "complaints.status.resolved": ("Resolved", "समाधान हो गया"),
    "complaints.status.closed": ("Closed", "बंद"),
    "complaints.overdue": ("Overdue", "समय-सीमा बीत गई"),
    "complaints.filed": (
        "Complaint {number} is registered. It will be resolved by {due_day}; an SMS confirms it.",
        "शिकायत {number} दर्ज हो गई है। इसका समाधान {due_day} तक किया जाएगा; इसकी पुष्टि "
        "SMS से भेजी गई है।",
    ),
    "complaints.detail": ("Complaint {number}", "शिकायत {number}"),
    "complaints.your_words": ("What you wrote", "आपने क्या लिखा"),
    "complaints.resolution": ("What was done", "क्या कार्रवाई की गई"),
    "complaints.history": ("History", "अब तक क्या हुआ"),
    "complaints.event_opened": ("Registered", "दर्ज की गई"),
    # issue 7: what the officers did, told on the consumer's complaint page
    "complaints.event.opened": ("Registered", "दर्ज की गई"),
    "complaints.event.moved": ("Status: {status}", "स्थिति: {status}"),
    "complaints.event.note": ("Note from our staff", "हमारे कर्मचारियों की टिप्पणी"),
    "complaints.event.reopened": ("Reopened", "फिर से खोली गई"),
    "complaints.event.escalated": (
        "Passed to a senior officer",
        "वरिष्ठ अधिकारी को भेजी गई",
    ),
    "complaints.check_meter": ("Check meter visit", "जाँच मीटर लगाने की तारीख"),
    "complaints.check_meter_hint": (
        "our staff will fit a check meter beside yours; please be at home",
        "हमारे कर्मचारी आपके मीटर के साथ जाँच मीटर लगाएँगे; कृपया घर पर रहें",
    ),
    "complaints.escalated": ("Escalated", "ऊपर भेजी गई"),
    "complaints.escalated_hint": (
        "Not resolved in time: a senior officer is looking into it.",
        "समय पर समाधान नहीं हुआ: वरिष्ठ अधिकारी इसे देख रहे हैं।",
    ),
    "complaints.reopen": ("Not fixed: reopen", "समस्या बनी है: फिर से खोलें"),
    "complaints.reopen_note": ("What is still wrong? (optional)", "क्या अब भी गलत है? (वैकल्पिक)"),
    "complaints.reopen_hint": (
        "If the problem remains, you can reopen this complaint until {day}.",
        "अगर समस्या बनी है, तो आप {day} तक यह शिकायत फिर से खोल सकते हैं।",
    ),
    "complaints.reopen_refused": (
        "This complaint can no longer be reopened. Please make a new complaint.",
        "यह शिकायत अब फिर से नहीं खोली जा सकती। कृपया नई शिकायत दर्ज करें।",
    ),
    "complaints.by_you": ("You", "आप"),
    "complaints.by_staff": ("Our staff", "हमारे कर्मचारी"),
    "complaints.all": ("All complaints", "सभी शिकायतें"),
    "complaints.error.category": (
        "Choose what the complaint is about.",
        "कृपया चुनें कि शिकायत किस बारे में है।",
    ),
    "complaints.error.description_empty": (
        "Describe the problem.",
        "कृपया समस्या के बारे में लिखें।",
    ),
    "complaints.error.description_too_long": (
        "The description is too long: at most {max} characters, please.",
        "विवरण बहुत लंबा है: कृपया अधिकतम {max} अक्षर लिखें।",
    ),
    "complaints.error.description_control": (
        "The description contains characters that cannot be shown. Please type it as plain text.",
        "विवरण में कुछ ऐसे अक्षर हैं जो दिखाए नहीं जा सकते। कृपया इसे सामान्य टेक्स्ट में लिखें।",
    ),
    "complaints.error.payment_reference": (
        "A payment reference has only letters, digits and . _ / : - (at most 100).",
        "भुगतान संदर्भ संख्या में केवल अक्षर, अंक और . _ / : - हो सकते हैं (अधिकतम 100)।",
    ),
    # Alert preferences.
    "alerts.title": ("Alert settings", "सूचना की सेटिंग"),
    "alerts.cut_warning": (
        "The warning before supply is cut always comes by SMS, at any hour: it cannot be "
        "turned off.",
        "बिजली कटने से पहले की चेतावनी हमेशा SMS से आती है, किसी भी समय: इसे बंद नहीं किया जा सकता।",
    ),
    "alerts.what": ("What to tell you", "किन बातों की सूचना दें"),
    "alerts.daily_summary": ("Daily consumption summary", "रोज़ की बिजली खपत का सारांश"),
    "alerts.low_balance": ("Low-balance alert", "कम बैलेंस की सूचना"),
    "alerts.threshold": (
        "Alert me when the balance falls below (₹)",
        "बैलेंस इससे कम होने पर सूचना दें (₹)",
    ),
    "alerts.channels": ("How to reach you", "सूचना कैसे भेजें"),
    "alerts.sms": ("SMS to your registered mobile", "रजिस्टर्ड मोबाइल पर SMS"),
    "alerts.email": ("E-mail to {email}", "{email} पर ई-मेल"),
    "alerts.email_none": (
        "E-mail: register an e-mail address first",
        "ई-मेल: पहले अपना ई-मेल पता दर्ज करें",
    ),
    "alerts.quiet_hours": (
        "Quiet hours: no alerts in this time, except the cut warning",
        "शांत समय: इस दौरान कटौती की चेतावनी के अलावा कोई सूचना नहीं",
    ),
    "alerts.quiet_from": ("From (IST)", "कब से (भारतीय समय)"),
    "alerts.quiet_until": ("Until (IST)", "कब तक (भारतीय समय)"),
    "alerts.save": ("Save", "सहेजें"),
    "alerts.saved": ("Your alert settings are saved.", "आपकी सूचना की सेटिंग सहेज ली गई है।"),
    "alerts.error.threshold": (
        "Enter an amount in rupees from 1 to 1,00,000, for example 100.",
        "1 से 1,00,000 के बीच रुपयों में राशि लिखें, जैसे 100।",
    ),
    "alerts.error.time": (
        "Enter a time as HH:MM, for example 22:00.",
        "समय HH:MM के रूप में लिखें, जैसे 22:00।",
    ),
    "alerts.error.same_times": (
        "Quiet hours must end at a different time than they start.",
        "शांत समय के शुरू और खत्म होने का समय अलग-अलग होना चाहिए।",
    ),
    "alerts.error.email_needed": (
        "Register an e-mail address first to get alerts by e-mail.",
        "ई-मेल पर सूचना पाने के लिए पहले अपना ई-मेल पता दर्ज करें।",
    ),
    # A new mobile number or e-mail address, confirmed by a code.
    "contact.title": ("Mobile number and e-mail", "मोबाइल नंबर और ई-मेल"),
    "contact.current_mobile": ("Registered mobile", "रजिस्टर्ड मोबाइल"),
    "contact.current_email": ("Registered e-mail", "रजिस्टर्ड ई-मेल"),
    "contact.no_email": ("None", "कोई नहीं"),
    "contact.how": (
        "We send a 6-digit code to the new number or address. Nothing changes until you "
        "type it here.",
        "हम नए नंबर या पते पर 6 अंकों का ओटीपी भेजेंगे। जब तक आप उसे यहाँ नहीं डालते, कुछ नहीं बदलेगा।",
    ),
    "contact.shared": (
        "A number that family members' connections also use is fine.",
        "ऐसा नंबर भी चलेगा जो परिवार के दूसरे कनेक्शनों में भी दर्ज है।",
    ),
    "contact.change_mobile": ("Change mobile number", "मोबाइल नंबर बदलें"),
    "contact.change_email": ("Change e-mail address", "ई-मेल पता बदलें"),
    "contact.new_mobile": ("New mobile number", "नया मोबाइल नंबर"),
    "contact.new_email": ("New e-mail address", "नया ई-मेल पता"),
    "contact.code_sent_mobile": (
        "A 6-digit code was sent by SMS to {target}. It is valid for {minutes} minutes.",
        "{target} पर SMS से 6 अंकों का ओटीपी भेजा गया है। यह {minutes} मिनट तक मान्य है।",
    ),
    "contact.code_sent_email": (
        "A 6-digit code was sent to {target}. It is valid for {minutes} minutes.",
        "{target} पर 6 अंकों का ओटीपी भेजा गया है। यह {minutes} मिनट तक मान्य है।",
    ),
    "contact.verify_title": ("Type the code", "ओटीपी डालें"),
    "contact.changed_mobile": (
        "The account's mobile number is now {value}. You stay logged in; next time, log in "
        "with the new number.",
        "खाते का मोबाइल नंबर अब {value} है। आप लॉग इन रहेंगे; अगली बार नए नंबर से लॉग इन करें।",
    ),
    "contact.changed_email": (
        "The account's e-mail address is now {value}.",
        "खाते का ई-मेल पता अब {value} है।",
    ),
    "contact.error.mobile": (
        "A mobile number has 10 digits and starts with 6, 7, 8 or 9.",
        "मोबाइल नंबर 10 अंकों का होता है और 6, 7, 8 या 9 से शुरू होता है।",
    ),
    "contact.error.email": (
        "Enter an e-mail address such as name@example.com.",
        "ई-मेल पता name@example.com की तरह लिखें।",
    ),
    "contact.error.same_mobile": (
        "This is already the account's mobile number.",
        "यह पहले से ही इस खाते का मोबाइल नंबर है।",
    ),
    "contact.error.same_email": (
        "This is already the account's e-mail address.",
        "यह पहले से ही इस खाते का ई-मेल पता है।",
    ),
}
