//! The word pools generated values are drawn from. They are deliberately hostile to naive
//! encoders: accents, CJK, Cyrillic, Greek and emoji, the XML specials `<&>"'`, the CDATA
//! terminator `]]>`, and multi-line text. Nothing here is the text `null` (the wire's
//! empty value), starts or ends with whitespace, or holds a carriage return or a control
//! character other than tab, because XML cannot carry those through a round trip.

/// The agents of every portal: owners, creators and modifiers of records.
pub const AGENTS: [&str; 8] = [
    "Alice Agent",
    "Bruno Díaz",
    "陈静 (Chen Jing)",
    "Dana O'Neil",
    "Émile Roux",
    "Farah Khan",
    "Gustav Ångström",
    "Hana Sato 🌸",
];

pub const FIRST_NAMES: [&str; 20] = [
    "Ada",
    "José",
    "Zoë",
    "Björn",
    "François",
    "Søren",
    "Łucja",
    "Siobhán",
    "Mohammed",
    "Aiko",
    "Wei",
    "Олег",
    "Νίκος",
    "Renée",
    "Günter",
    "María José",
    "D'Arcy",
    "Jean-Luc",
    "Priya",
    "Chidi",
];

pub const LAST_NAMES: [&str; 20] = [
    "Lovelace",
    "García",
    "Müller",
    "O'Brien",
    "Nørgaard",
    "Dvořák",
    "Kowalczyk",
    "山田",
    "王",
    "Иванов",
    "Παπαδόπουλος",
    "Smith",
    "Nguyễn",
    "Ó Súilleabháin",
    "Al-Sayed",
    "da Silva",
    "van der Berg",
    "Okafor",
    "Brontë",
    "Example",
];

/// Ascii local parts, so that most addresses look like real ones.
pub const MAIL_NAMES: [&str; 12] = [
    "ada", "jose", "zoe", "bjorn", "francois", "info", "support", "sales", "m.khan", "li.wei",
    "ada+zoho", "o_brien",
];

pub const MAIL_DOMAINS: [&str; 5] = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.invalid",
    "例え.jp",
];

pub const COMPANIES: [&str; 16] = [
    "Acme & Co",
    "Globex Corporation",
    "Initech",
    "Zürich Versicherung AG",
    "株式会社サンプル",
    "O'Reilly <Media>",
    "Café Ñandú S.A.",
    "Widgets \"R\" Us",
    "Umbrella Ltd",
    "Hooli",
    "Société d'Exemple",
    "Björk & Björn AB",
    "北京示例科技有限公司",
    "Stark Industries",
    "Rocket Labs 🚀",
    "ООО «Пример»",
];

pub const WEB_SLUGS: [&str; 8] = [
    "acme",
    "globex",
    "initech",
    "zurich-ins",
    "sample-kk",
    "oreilly",
    "cafe-nandu",
    "hooli",
];

pub const PRODUCTS: [&str; 12] = [
    "Widget Pro",
    "Gadget Mini",
    "Printer 3000",
    "Router X™",
    "Café Machine ☕",
    "Sensor Kit <v2>",
    "Cloud Backup & Sync",
    "Licence \"Enterprise\"",
    "Kabel-Set Über",
    "スマートスピーカー",
    "Data Pipe ]]> Edition",
    "Helpdesk Plus",
];

pub const REQUEST_SUBJECTS: [&str; 24] = [
    "Printer is on fire",
    "Cannot log in after password reset",
    "Invoice total is wrong",
    "Refund request for last order",
    "App crashes on startup",
    "Feature request: dark mode",
    "Export contains ]]> and breaks the XML",
    "Error <500> & \"retry\" loop",
    "Can't open the 'Reports' tab",
    "Ça ne fonctionne plus depuis la mise à jour",
    "Fehlermeldung beim Öffnen der Datei",
    "ログインできません",
    "无法导出报表",
    "Сбой синхронизации",
    "🔥 Production server down",
    "Question about the Q3 price list 💶",
    "Slow response times in São Paulo",
    "Password reset e-mail never arrives",
    "Wrong VAT rate on invoice",
    "How do I add a second user?",
    "Duplicate charges on my card",
    "License key rejected",
    "Mobile app shows a blank screen",
    "Upgrade to the Enterprise plan",
];

pub const TASK_SUBJECTS: [&str; 10] = [
    "Call back customer",
    "Send quote",
    "Follow up on invoice",
    "Schedule on-site visit",
    "Prepare Q&A <draft>",
    "Rückruf vereinbaren",
    "見積書を送る",
    "Check 'pending' tickets 📋",
    "Renew \"Gold\" contract",
    "Escalate ]]> parser bug",
];

pub const SOLUTION_TITLES: [&str; 10] = [
    "How to reset your password",
    "Configuring SMTP <relay> settings",
    "Printer shows error E-42",
    "Exporting data: avoiding ]]> in CDATA",
    "Wie ändere ich meine Rechnungsadresse?",
    "パスワードを変更する方法",
    "Tips & tricks for faster search ⚡",
    "Why is my invoice \"pending\"?",
    "Setting up two-factor authentication",
    "Comment exporter vos données",
];

pub const CONTRACT_KINDS: [&str; 6] = [
    "Support Plan Gold",
    "Maintenance 24/7",
    "SLA <Premium>",
    "Wartungsvertrag",
    "保守契約",
    "Pay-as-you-go & Extras",
];

/// Lines of descriptions, answers and resolutions; several are joined with `\n`.
pub const SENTENCES: [&str; 24] = [
    "The device stopped working this morning.",
    "Steps: 1) open <Settings> 2) click \"Save\" & wait.",
    "Log excerpt: <![CDATA[payload]]> end of log.",
    "Customer wrote: \"it's broken again\".",
    "Tried restarting, no luck.",
    "Error code 0x80070005 (access denied).",
    "Le client signale un problème de facturation.",
    "Der Drucker zeigt „Papierstau“ an.",
    "画面が真っ白になります。",
    "客户要求退款。",
    "Пользователь не может войти в систему.",
    "Please call back before 5 pm 🙏",
    "Attached screenshot shows 100% CPU 🔥",
    "Value was 5 < 7 && 9 > 3.",
    "Workaround: clear the cache, then log in again.",
    "Escalated to second level.\tTicket linked.",
    "Resolved by replacing the toner cartridge.",
    "Waiting for the customer's reply.",
    "Reproduced on version 4.2.1.",
    "Marker ]]> appears in the exported file.",
    "Ñandú team confirmed the fix ✅",
    "Naïve café façade — déjà vu.",
    "Σφάλμα κατά την αποθήκευση.",
    "Thanks & regards, the support team",
];

pub const SHORT_TEXTS: [&str; 10] = [
    "VIP",
    "Renewal due",
    "Needs follow-up",
    "Über-wichtig",
    "优先",
    "<none>",
    "A & B",
    "It's fine 👍",
    "x ]]> y",
    "\"quoted\"",
];

pub const REQUEST_STATUS: [&str; 4] = ["Open", "On Hold", "Escalated", "Closed"];
pub const PRIORITIES: [&str; 3] = ["High", "Medium", "Low"];
pub const CHANNELS: [&str; 7] = [
    "Phone", "Email", "Web", "Chat", "Forums", "Twitter", "Facebook",
];
pub const CLASSIFICATIONS: [&str; 4] = ["Question", "Problem", "Feature", "Others"];
pub const CHARGE_TYPES: [&str; 4] = [
    "Service and Maintenance",
    "Billable",
    "Non Billable",
    "Warranty & Repairs",
];
pub const SOLUTION_STATUS: [&str; 3] = ["Draft", "Review", "Published"];
pub const TASK_STATUS: [&str; 5] = [
    "Not Started",
    "In Progress",
    "Completed",
    "Deferred",
    "Waiting on someone else",
];
pub const TASK_PRIORITIES: [&str; 5] = ["Highest", "High", "Normal", "Low", "Lowest"];

/// Categories and their sub-categories: a record's sub-category belongs to its category.
pub const CATEGORIES: [(&str, [&str; 3]); 4] = [
    ("Hardware", ["Printer", "Laptop", "Monitor"]),
    ("Software", ["Installation", "Licensing", "Bug"]),
    ("Billing", ["Invoice", "Refund", "Payment"]),
    ("Account", ["Login", "Password", "Profile"]),
];

pub const COUNTRY_CODES: [u16; 7] = [1, 44, 49, 33, 81, 86, 34];
