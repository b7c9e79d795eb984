//! The fields of each Desk module in wire order (section 3.1's record shapes), with how
//! each value is generated, whether a list row shows it (D14: `/tickets` and `/contacts`
//! rows omit `modifiedTime`, `description` and `cf`), how often it is null, and whether a
//! modification redraws it. The tables are data: the renderer interprets them, so a field
//! added here appears in every answer, snapshot, filter and sort at once.

use super::super::module::DeskModule;
use crate::emulator::store::vocabulary as words;

const DAY: i64 = 86_400;

/// How a field's value is made.
#[derive(Clone, Copy, Debug)]
pub enum Gen {
    Id,
    /// The record's sequence number as a string (`ticketNumber`, `contractNumber`).
    Number,
    Created,
    Modified,
    /// A customer reply shortly before the last modification, with real milliseconds.
    CustomerResponse,
    Pick(&'static [&'static str]),
    Text(&'static [&'static str]),
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Website,
    ProductCode,
    Decimal,
    /// A whole number in the range, as a string (D13: counters are strings).
    Count(u64, u64),
    Agent,
    Department,
    /// Every department's id, as a list.
    Departments,
    Ref(DeskModule),
    /// The parent of a time entry: a record of the module its `module` field names.
    Parent,
    /// Seconds after the created time, in this range.
    After(i64, i64),
    /// `Closed` tickets: the modified time; others null.
    ClosedTime,
    /// Derived from `status` (`Open`, `On Hold`, `Closed`).
    StatusType,
    Bool(u64),
    False,
    Null,
    English,
    WebUrl,
    Happiness,
    Cf,
    CustomFields,
}

/// One field of a module.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub gen: Gen,
    /// Percent of records whose value is null.
    pub null_pct: u64,
    /// Shown in the `/tickets` and `/contacts` list rows (D14).
    pub list: bool,
    /// Redrawn when a modification bumps the record's version.
    pub volatile: bool,
}

const fn f(name: &'static str, gen: Gen) -> Field {
    Field {
        name,
        gen,
        null_pct: 0,
        list: true,
        volatile: false,
    }
}

impl Field {
    const fn null(mut self, pct: u64) -> Field {
        self.null_pct = pct;
        self
    }
    const fn hidden(mut self) -> Field {
        self.list = false;
        self
    }
    const fn vol(mut self) -> Field {
        self.volatile = true;
        self
    }
}

pub const TICKET_STATUS: [&str; 4] = ["Open", "On Hold", "Escalated", "Closed"];
const CHANNELS: [&str; 6] = ["Email", "Phone", "Web", "Chat", "Forums", "Twitter"];
const CATEGORIES: [&str; 4] = ["Billing", "Hardware", "Software", "Account"];
const TITLES: [&str; 5] = ["Manager", "Engineer", "Director", "Analyst", "Owner"];
const CITIES: [&str; 6] = ["Gdansk", "Lyon", "Osaka", "Austin", "Chennai", "Zürich"];
const COUNTRIES: [&str; 5] = ["Poland", "France", "Japan", "United States", "India"];
const INDUSTRIES: [&str; 4] = ["Logistics", "Retail", "Healthcare", "Finance"];
const TASK_CATEGORIES: [&str; 4] = ["Call", "Email", "Meeting", "Follow-up"];
const CALL_STATUS: [&str; 4] = ["Scheduled", "In Progress", "Completed", "Cancelled"];
const EVENT_STATUS: [&str; 3] = ["Scheduled", "Completed", "Cancelled"];
const EVENT_CATEGORIES: [&str; 4] = ["Meeting", "Demo", "Webinar", "Visit"];
const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];
const PRODUCT_CATEGORIES: [&str; 3] = ["Hardware", "Software", "Service"];
const CONTRACT_STATUS: [&str; 3] = ["Active", "Expired", "Cancelled"];
const BILLING: [&str; 2] = ["Billable", "Non Billable"];
pub const PARENT_MODULES: [&str; 4] = ["tickets", "tasks", "calls", "events"];

const TICKETS: &[Field] = &[
    f("id", Gen::Id),
    f("ticketNumber", Gen::Number),
    f("subject", Gen::Text(&words::REQUEST_SUBJECTS)).vol(),
    f("description", Gen::Text(&words::SENTENCES))
        .null(10)
        .hidden()
        .vol(),
    f("status", Gen::Pick(&TICKET_STATUS)).vol(),
    f("statusType", Gen::StatusType),
    f("priority", Gen::Pick(&words::PRIORITIES)).null(10).vol(),
    f("category", Gen::Pick(&CATEGORIES)).null(30),
    f("subCategory", Gen::Null),
    f("classification", Gen::Pick(&words::CLASSIFICATIONS)).null(20),
    f("channel", Gen::Pick(&CHANNELS)),
    f("language", Gen::English),
    f("email", Gen::Email).null(5),
    f("phone", Gen::Phone).null(40),
    f("webUrl", Gen::WebUrl),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified).hidden(),
    f("createdBy", Gen::Agent),
    f("modifiedBy", Gen::Agent).vol(),
    f("closedTime", Gen::ClosedTime),
    f("dueDate", Gen::After(3_600, 14 * DAY)).null(20),
    f("responseDueDate", Gen::After(600, 2 * DAY)).null(50),
    f("customerResponseTime", Gen::CustomerResponse).null(10),
    f("resolution", Gen::Null).hidden(),
    f("departmentId", Gen::Department),
    f("contactId", Gen::Ref(DeskModule::Contacts)),
    f("accountId", Gen::Ref(DeskModule::Accounts)).null(40),
    f("assigneeId", Gen::Agent).null(15).vol(),
    f("teamId", Gen::Null),
    f("productId", Gen::Ref(DeskModule::Products)).null(60),
    f("isSpam", Gen::Bool(2)),
    f("isEscalated", Gen::Bool(5)).vol(),
    f("isOverDue", Gen::Bool(10)).vol(),
    f("isArchived", Gen::False),
    f("isDeleted", Gen::False),
    f("isTrashed", Gen::False),
    f("threadCount", Gen::Count(1, 12)).vol(),
    f("commentCount", Gen::Count(0, 4)).vol(),
    f("taskCount", Gen::Count(0, 2)),
    f("attachmentCount", Gen::Count(0, 3)),
    f("timeEntryCount", Gen::Count(0, 2)),
    f("cf", Gen::Cf).hidden(),
    f("customFields", Gen::CustomFields).hidden(),
];

const CONTACTS: &[Field] = &[
    f("id", Gen::Id),
    f("firstName", Gen::FirstName).null(10),
    f("lastName", Gen::LastName),
    f("email", Gen::Email).null(5),
    f("secondaryEmail", Gen::Email).null(80),
    f("phone", Gen::Phone).null(30),
    f("mobile", Gen::Phone).null(60),
    f("title", Gen::Pick(&TITLES)).null(50).hidden().vol(),
    f("type", Gen::Null),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(70)
        .hidden()
        .vol(),
    f("city", Gen::Pick(&CITIES)).null(40).hidden(),
    f("zip", Gen::Null).hidden(),
    f("country", Gen::Pick(&COUNTRIES)).null(30).hidden(),
    f("accountId", Gen::Ref(DeskModule::Accounts)).null(30),
    f("ownerId", Gen::Agent),
    f("isEndUser", Gen::Bool(10)),
    f("isSpam", Gen::Bool(1)),
    f("isAnonymous", Gen::False),
    f("photoURL", Gen::Null),
    f("zohoCRMContact", Gen::Null),
    f("customerHappiness", Gen::Happiness),
    f("webUrl", Gen::WebUrl),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified).hidden(),
    f("cf", Gen::Cf).hidden(),
    f("customFields", Gen::CustomFields).hidden(),
];

const ACCOUNTS: &[Field] = &[
    f("id", Gen::Id),
    f("accountName", Gen::Company),
    f("email", Gen::Email).null(40),
    f("phone", Gen::Phone).null(30),
    f("fax", Gen::Null),
    f("website", Gen::Website).null(30),
    f("city", Gen::Pick(&CITIES)).null(40),
    f("code", Gen::Null),
    f("country", Gen::Pick(&COUNTRIES)).null(30),
    f("industry", Gen::Pick(&INDUSTRIES)).null(30).vol(),
    f("annualrevenue", Gen::Decimal).null(60),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(60)
        .vol(),
    f("ownerId", Gen::Agent),
    f("webUrl", Gen::WebUrl),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const TASKS: &[Field] = &[
    f("id", Gen::Id),
    f("subject", Gen::Text(&words::TASK_SUBJECTS)).vol(),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(50)
        .vol(),
    f("status", Gen::Pick(&words::TASK_STATUS)).vol(),
    f("priority", Gen::Pick(&words::TASK_PRIORITIES)).vol(),
    f("category", Gen::Pick(&TASK_CATEGORIES)).null(40),
    f("dueDate", Gen::After(3_600, 14 * DAY)).null(20),
    f("departmentId", Gen::Department),
    f("ticketId", Gen::Ref(DeskModule::Tickets)).null(30),
    f("ownerId", Gen::Agent).vol(),
    f("creatorId", Gen::Agent),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const CALLS: &[Field] = &[
    f("id", Gen::Id),
    f("subject", Gen::Text(&words::TASK_SUBJECTS)).vol(),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(50)
        .vol(),
    f("status", Gen::Pick(&CALL_STATUS)).vol(),
    f("priority", Gen::Pick(&words::TASK_PRIORITIES)).vol(),
    f("direction", Gen::Pick(&DIRECTIONS)),
    f("startTime", Gen::After(-DAY, 7 * DAY)),
    f("duration", Gen::Count(60, 3_600)),
    f("departmentId", Gen::Department),
    f("ticketId", Gen::Ref(DeskModule::Tickets)).null(40),
    f("contactId", Gen::Ref(DeskModule::Contacts)).null(30),
    f("ownerId", Gen::Agent),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const EVENTS: &[Field] = &[
    f("id", Gen::Id),
    f("subject", Gen::Text(&words::TASK_SUBJECTS)).vol(),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(50)
        .vol(),
    f("status", Gen::Pick(&EVENT_STATUS)).vol(),
    f("priority", Gen::Pick(&words::TASK_PRIORITIES)).vol(),
    f("category", Gen::Pick(&EVENT_CATEGORIES)),
    f("startTime", Gen::After(-DAY, 7 * DAY)),
    f("duration", Gen::Count(900, 7_200)),
    f("departmentId", Gen::Department),
    f("ticketId", Gen::Ref(DeskModule::Tickets)).null(50),
    f("ownerId", Gen::Agent),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const PRODUCTS: &[Field] = &[
    f("id", Gen::Id),
    f("productName", Gen::Pick(&words::PRODUCTS)),
    f("productCode", Gen::ProductCode),
    f("productCategory", Gen::Pick(&PRODUCT_CATEGORIES)).null(30),
    f("unitPrice", Gen::Decimal).null(20).vol(),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(50)
        .vol(),
    f("departmentIds", Gen::Departments),
    f("ownerId", Gen::Agent),
    f("isDeleted", Gen::False),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const CONTRACTS: &[Field] = &[
    f("id", Gen::Id),
    f("contractName", Gen::Company),
    f("contractNumber", Gen::Number),
    f("accountId", Gen::Ref(DeskModule::Accounts)),
    f("productId", Gen::Ref(DeskModule::Products)).null(50),
    f("departmentId", Gen::Department),
    f("ownerId", Gen::Agent),
    f("contractStatus", Gen::Pick(&CONTRACT_STATUS)).vol(),
    f("startDate", Gen::After(-60 * DAY, 0)),
    f("endDate", Gen::After(300 * DAY, 1_000 * DAY)),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(60)
        .vol(),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
    f("cf", Gen::Cf),
    f("customFields", Gen::CustomFields),
];

const TIME_ENTRIES: &[Field] = &[
    f("id", Gen::Id),
    f("module", Gen::Pick(&PARENT_MODULES)),
    f("parentId", Gen::Parent),
    f("executedTime", Gen::After(-3 * DAY, 0)),
    f("hoursSpent", Gen::Count(0, 8)).vol(),
    f("minutesSpent", Gen::Count(0, 59)).vol(),
    f("secondsSpent", Gen::Count(0, 59)),
    f("billingType", Gen::Pick(&BILLING)).vol(),
    f("description", Gen::Text(&words::SHORT_TEXTS))
        .null(50)
        .vol(),
    f("departmentId", Gen::Department),
    f("ownerId", Gen::Agent),
    f("createdTime", Gen::Created),
    f("modifiedTime", Gen::Modified),
];

/// The module's fields in wire order, `id` first.
pub fn fields(module: DeskModule) -> &'static [Field] {
    match module {
        DeskModule::Tickets => TICKETS,
        DeskModule::Contacts => CONTACTS,
        DeskModule::Accounts => ACCOUNTS,
        DeskModule::Tasks => TASKS,
        DeskModule::Calls => CALLS,
        DeskModule::Events => EVENTS,
        DeskModule::Products => PRODUCTS,
        DeskModule::Contracts => CONTRACTS,
        DeskModule::TimeEntry => TIME_ENTRIES,
    }
}

pub fn field(module: DeskModule, name: &str) -> Option<&'static Field> {
    fields(module).iter().find(|f| f.name == name)
}

/// The module's custom fields: API name, display label (D24).
pub fn custom_fields(module: DeskModule) -> &'static [(&'static str, &'static str)] {
    match module {
        DeskModule::Tickets => &[("cf_order_number", "Order Number"), ("cf_region", "Region")],
        DeskModule::Contacts => &[("cf_customer_tier", "Customer Tier")],
        DeskModule::Accounts => &[("cf_segment", "Segment")],
        DeskModule::TimeEntry => &[],
        _ => &[("cf_reference", "Reference")],
    }
}
