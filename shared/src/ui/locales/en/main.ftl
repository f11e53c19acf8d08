# EMMA's browser UI, English.

product-name = EMMA
product-claim = E-mail marketing for savings banks
skip-to-content = Skip to content
footer-text = EMMA – your data stays with your institute.
language-switch-en = English
language-switch-de = Deutsch
nav-label = Main navigation
sign-out = Sign out

## Navigation and overview

nav-overview = Overview
nav-users = User administration
nav-users-description = Create users and see their roles.
nav-tenants = Tenants
nav-tenants-description = See and create the platform's institutes.
nav-audit = Audit log
nav-audit-description = Who changed what and when – with CSV export.
nav-account = Account
nav-account-description = Change your password and set up a second factor.
overview-welcome = Welcome, { $name }!
overview-role-operator = You run the platform: create and manage tenants. You do not see the institutes' content.
overview-role-product_admin = You look after the institutes' administrators.
overview-role-tenant_admin = You manage your institute's users and see its audit log.
overview-role-editor = You keep your institute's contacts, lists, templates and campaigns.
overview-role-viewer = You see your institute's reports and content without changing them.

## Roles and states

role-operator = Operator
role-product_admin = Product administrator
role-tenant_admin = Institute administrator
role-editor = Editor
role-viewer = Viewer
status-active = active
status-disabled = disabled
tenant-status-active = active
tenant-status-suspended = suspended
outcome-success = succeeded
outcome-denied = denied
outcome-failed = failed

## Sign-in

sign-in-title = Sign in
sign-in-button = Sign in
sign-in-sso = Sign in with your corporate account
sign-in-sso-explanation = Through your group's central user management; on the corporate network without entering a password again.
sign-in-sso-failed = Signing in with your corporate account did not work. Please try again.
sign-in-sso-unknown = Your corporate account is not enabled for EMMA. Please contact the people responsible for EMMA at your institute.
sign-in-sso-inactive = Your account is disabled, or your institute's access is suspended at the moment.
sign-in-sso-cancelled = Signing in was cancelled at the central user management.
sign-in-sso-unavailable = The central user management cannot be reached at the moment. Please try again later or sign in with your password.
sign-in-sso-not-configured = Signing in with a corporate account is not set up for this installation.
sign-in-or-password = or with your e-mail address and password:
sign-in-invalid = The e-mail address or password is not right.
sign-in-throttled = Too many failed attempts. Please try again in { $seconds } seconds.
sign-in-second-factor = Please enter your password again together with the code from your authenticator app.
sign-in-second-factor-invalid = The code from the authenticator app is not right. Please enter your password and a new code.
sign-in-tenant-suspended = Your institute's access is suspended at the moment.
sign-in-expired = The sign-in page was open for too long. Please sign in again.

## Form fields

field-email = E-mail address
field-password = Password
field-totp-code = Code from the authenticator app
field-totp-code-hint = Only needed if you have set up a second factor.
field-name = Name
field-role = Role
field-status = Status
field-tenant = Tenant
field-tenant-name = Name of the institute
field-tenant-id = Id
field-created-at = Created on
field-current-password = Current password
field-new-password = New password
field-code = Code

## Problems with input

form-error = Please check the field “{ $field }”: { $problem }
problem-required = Please fill in this field.
problem-too-long = At most { $max } characters are allowed.
problem-control-characters = Control characters are not allowed.
problem-email-invalid = This is not a valid e-mail address (for example: name@sparkasse-musterstadt.de).
problem-email-taken = There is an account for this e-mail address already.
problem-role-not-grantable = You may not grant this role.
problem-password-wrong = The current password is not right.
problem-password-too-short = The password needs at least { $min } characters.
problem-password-too-long = The password may have at most { $max } characters.
problem-password-too-common = This password is too common or too easy to guess.
problem-password-personal = The password must not contain your e-mail address.
problem-code-invalid = The code is not right. Please enter the current code.
problem-nothing-to-confirm = Please set up the second factor first.
problem-form-unreadable = The form did not arrive readably. Please reload the page.

## User administration

users-intro = Users of { $tenant } that you may manage.
users-table-caption = Users
users-none = No users yet.
users-choose-tenant = Show
users-new-heading = Create a user
users-create-button = Create user
users-created = { $name } has been created.
users-invited = The invitation is on its way: with the link in the e-mail, the person sets their own password.
users-one-time-password = One-time password (shown only now):
users-one-time-password-hint = Pass the one-time password on by a safe channel. It must be replaced by a password of their own at the first sign-in.

## Tenants

tenants-table-caption = Tenants
tenants-none = No tenants yet.
tenants-new-heading = Create a tenant
tenants-name-hint = For example “Sparkasse Musterstadt”, at most 120 characters.
tenants-create-button = Create tenant
tenants-created = The tenant { $name } has been created (id { $id }).

## Audit log

audit-intro-tenant = Your institute's latest 100 entries, newest first. E-mail and IP addresses appear only as a keyed hash.
audit-intro-platform = The platform's latest 100 entries, newest first.
audit-filter-action = Action starts with (e.g. user.)
audit-filter-all = All
audit-filter-submit = Filter
audit-csv = Download as CSV
audit-table-caption = Audit log
audit-time = Time
audit-action = Action
audit-object = Object
audit-outcome = Outcome
audit-actor = Who
audit-ip = Origin (IP network)
audit-ip-hash = Check value of the IP address
audit-filter-ip = From IP address
audit-filter-ip-hint = The log keeps only the network and a check value of the address; it still finds a known address.
audit-filter-ip-invalid = That is not an IPv4 or IPv6 address; the filter was not applied.
audit-none = No entries yet.
datetime = { $date }, { $time }

## Account

account-signed-in-as = Signed in as { $email }.
account-must-change-password = You signed in with a one-time password. Please choose your own password now.
account-password-heading = Change password
account-password-hint = At least { $min } characters; a passphrase of several words is easy to remember and hard to guess.
account-password-button = Change password
account-password-changed = Your password has been changed.
account-totp-heading = Second factor (authenticator app)
account-totp-active = The second factor is set up: EMMA asks for a code when you sign in.
account-totp-inactive = The second factor is not set up.
account-totp-setup-button = Set up a second factor
account-totp-renew-button = Set up a new authenticator app
account-totp-scan = Scan the QR code with your authenticator app, then enter the code it shows.
account-totp-qr-alt = QR code for the authenticator app
account-totp-secret = Or type in this key by hand:
account-totp-confirm-button = Confirm code
account-totp-confirmed = The second factor is set up. From now on EMMA asks for a code when you sign in.

## Error pages

error-to-overview = To the overview
error-to-sign-in = To sign-in
error-title-400 = Bad request
error-message-400 = The request could not be processed.
error-title-401 = Sign-in required
error-message-401 = Please sign in to see this page.
error-title-403 = Not allowed
error-message-403 = You may not see this page or do this.
error-title-404 = Not found
error-message-404 = There is no such page.
error-title-405 = Not possible
error-message-405 = This action is not possible here.
error-title-413 = Too large
error-message-413 = The data sent is too large.
error-title-415 = Wrong format
error-message-415 = The form arrived in a format EMMA does not understand.
error-title-429 = Too many requests
error-message-429 = Please wait a moment, then try again.
error-title-500 = Internal error
error-message-500 = Something went wrong. Please try again later.
error-title-503 = Temporarily unavailable
error-message-503 = EMMA is busy right now. Please try again shortly.
error-title-other = Error
error-message-other = The request failed.

## Forgotten password

sign-in-forgot = Forgot your password?
forgot-title = Forgotten password
forgot-intro = Enter your account's e-mail address. We will send you a link to set a new password. It is valid for 30 minutes.
forgot-button = Send link
forgot-sent = If the address has an account, a link is on its way. Please check your inbox.
reset-title = Set a new password
reset-button = Set password
reset-done = Your new password is set. You can sign in with it now.
reset-to-sign-in = Go to sign-in
reset-new-link = Request a new link
reset-link-invalid = This link is invalid or has expired. Please request a new one.
reset-expired-form = The page was open for too long. Please enter the new password again.

## Changing and deleting users

users-actions = Actions
users-yourself = Your own account
users-role-of = Role of { $name }
users-change-role = Change role
users-disable = Disable
users-enable = Enable
users-delete = Delete
users-delete-confirm = Really delete { $name }? This cannot be undone.
users-not-yourself = You cannot change or delete your own account here.
users-role-changed = { $name } now has the role { $role }.
users-disabled = { $name } is disabled and can no longer sign in.
users-enabled = { $name } is active again.
users-deleted = { $name } is deleted.

## One tenant

tenant-back = Back to the tenants
tenant-none-set = not set
tenant-yes = yes
tenant-no = no
tenant-settings-heading = Edit tenant
tenant-status-hint = A suspended tenant can neither sign in nor send.
tenant-sender-domains-hint = One domain per line, e.g. sparkasse-musterstadt.de.
tenant-save-button = Save
tenant-saved = The changes are saved.
tracking-off = Off (no opens or clicks)
tracking-aggregate = Aggregated (not per person)
tracking-per_person = Per recipient
field-sender-domains = Sender domains
field-default-from-name = Sender name
field-tracking = Tracking
field-audit-retention-days = Audit log retention (days)
field-unconfirmed-retention-days = Retention of unconfirmed contacts (days)
field-require-second-factor = Second factor required for all users
field-settings = Settings
problem-choose-option = Please choose one of the values offered.
problem-days-range = Please enter a whole number from 1 to { $max }.
problem-domain-invalid = “{ $domain }” is not a valid domain name.
problem-from-name = At most { $max } characters, no control characters.
problem-settings-invalid = The settings are not valid.

## Development identity provider (local mode only)

dev-idp-title = Development identity provider
dev-idp-notice = For local development only: this provider stands in for the central user management and vouches for whoever you enter here. It does not exist on AWS.
dev-idp-tenant-hint = Optional. For the first sign-in of people EMMA does not know yet: the tenant id.
dev-idp-role-hint = Optional. The role at the first sign-in: editor, viewer or tenant_admin.
dev-idp-continue = Confirm and return to EMMA
dev-idp-invalid = The sign-in request is invalid: { $reason }

## Contacts

nav-contacts = Contacts
nav-contacts-description = Find, add and maintain recipients.
contacts-search-label = Search contacts
contacts-search = Search
contacts-search-hint = The start of the last name (“mull” finds Müller and Muller) or a complete e-mail address.
contacts-sort = Order
contacts-sort-ascending = Name A–Z
contacts-sort-descending = Name Z–A
contacts-search-button = Show
contacts-search-reset = Show all contacts
contacts-table-caption = Contacts by name
contacts-table-caption-search = Contacts matching “{ $search }”
contacts-none = No contacts yet.
contacts-none-found = No contacts found.
contacts-paging = Pages of the contact list
contacts-first-page = To the start
contacts-next-page = Next
contacts-new-heading = Add a contact
contacts-create-button = Add contact
contacts-status-hint = Choose “subscribed” only when the person's documented consent is on file (from a double opt-in, for example). An unconfirmed contact receives no mailings.
contacts-problem-email-taken = A contact with this e-mail address exists already.
contacts-to-existing = Go to that contact
contacts-problem-confirm-delete = Please confirm the deletion by ticking the box.
contacts-changed-meanwhile = The contact was changed meanwhile. Its current state is shown above; please check your entries and save again.
contacts-notice-created = The contact is added.
contacts-notice-saved = The changes are saved.
contacts-notice-unsubscribed = The contact is unsubscribed and receives no more mailings.
contacts-notice-deleted = The contact is deleted.
contact-title = Contact
contact-back = Back to the contacts
contact-none-given = not given
contact-field-salutation = Salutation
contact-field-first-name = First name
contact-field-last-name = Last name
contact-field-language = Language
contact-field-updated-at = Changed on
contact-salutation-none = none
contact-salutation-female = Ms
contact-salutation-male = Mr
contact-salutation-diverse = Diverse
contact-language-de = German
contact-language-en = English
contact-status-unconfirmed = unconfirmed
contact-status-subscribed = subscribed
contact-status-unsubscribed = unsubscribed
contact-status-bounced = bounced
contact-status-complained = complaint
contact-status-final-hint = This contact receives no more mailings. Only a new consent of the person (double opt-in) can subscribe them again.
contact-edit-heading = Edit contact
contact-edit-hint = The e-mail address cannot be changed: another address is another contact.
contact-save-button = Save
contact-unsubscribe-heading = Unsubscribe from the newsletter
contact-unsubscribe-hint = For example when the person asks for it on the phone or at the counter. They then receive no more mailings; only a new consent subscribes them again.
contact-unsubscribe-button = Unsubscribe from the newsletter
contact-delete-heading = Delete contact
contact-delete-hint = The contact is removed with everything known about them; this cannot be undone. Someone who should just receive no more mailings is better unsubscribed: a deleted contact can come back with an import.
contact-delete-confirm = Yes, delete
contact-delete-button = Delete contact

## Unsubscribe

unsubscribe-title = Unsubscribe from the newsletter
unsubscribe-intro = Choose here which mailings go to { $address }.
unsubscribe-lists-legend = Leave these lists
unsubscribe-lists-button = Leave the chosen lists
unsubscribe-no-lists = This address is on no list.
unsubscribe-all-hint = This address will then get no more mailings from us. Only a new consent signs you up again.
unsubscribe-all-button = Unsubscribe from all mailings
unsubscribe-left-all = You are unsubscribed and will get no more mailings from us.
unsubscribe-left-lists = { $count ->
    [0] You were on none of the chosen lists any more; nothing changed.
    [one] You left one list. Your other mailings keep coming.
   *[other] You left { $count } lists. Your other mailings keep coming.
}
unsubscribe-back = Back to your lists
unsubscribe-nothing-to-do = There is nothing more to do for this address: it gets no more mailings from us.
unsubscribe-nothing-to-do-for = There is nothing more to do for { $address }: it gets no more mailings from us.
unsubscribe-choose-list = Please choose at least one list.
unsubscribe-form-expired = The form did not come from this page. Please choose here once more.
unsubscribe-invalid = This unsubscribe link is not valid. Please use the link from the e-mail as it is.
unsubscribe-one-click-done = You are unsubscribed.

# --- imports and exports (UI) ---

nav-imports = Imports
nav-imports-description = Read contacts from CSV files (Excel).
nav-exports = Exports
nav-exports-description = Write contacts to a CSV file for Excel.
imports-new-heading = New import
imports-new-hint = A CSV file as Excel saves it ("CSV (comma delimited)" or "CSV UTF-8") with a header row; at most { $max } MB. After the upload you map the columns.
imports-needs-javascript = The upload needs JavaScript. Please turn JavaScript on for EMMA.
imports-file = CSV file
imports-upload-progress = Uploaded
imports-upload-button = Upload and continue
imports-uploading = { $percent } % uploaded
imports-problem-size = The file is too large: an import takes at most { $max } MB. Please split the file.
imports-problem-empty-file = The file is empty.
imports-problem-file-name = The file name is not allowed (at most 100 characters, no control characters).
imports-problem-announce = The import could not be created. Please try again in a moment.
imports-problem-upload = The upload failed. Please try again.
imports-table-caption = This institute's imports, newest first
imports-field-file = File
imports-field-size = Size
imports-field-report = Report
imports-to-mapping = Map the columns
imports-none = No imports yet.
imports-paging = Pages of imports
imports-first-page = First page
imports-next-page = More imports
import-title = Import
import-mapping-title = Map the columns
import-back-to-list = Back to the imports
import-heading = Import "{ $file }"
import-size-bytes = { $size } bytes
import-rows = Rows
import-added = Added
import-updated = Updated
import-skipped = Skipped
import-state-awaiting-upload = awaiting mapping
import-state-queued = waiting to start
import-state-running = running
import-state-finished = finished
import-state-failed = failed
import-separator-semicolon = semicolon
import-separator-comma = comma
import-separator-tab = tab
import-mapping-intro = The file reads as { $encoding } with the separator { $separator }.
import-mapping-heading = Map the columns
import-mapping-hint = Choose above each column what it holds. A column with the e-mail address is needed; columns set to "do not import" are left out.
import-preview-caption = Preview: the file's first { $rows } rows
import-preview-empty = The file has only the header row.
import-column-label = Import column { $column } ("{ $heading }") as
import-target-ignore = do not import
import-target-email = E-mail address
import-target-salutation = Salutation
import-target-first-name = First name
import-target-last-name = Last name
import-target-language = Language
import-mode = What should the import do?
import-mode-hint = Unsubscribed, bounced and suppressed addresses are never subscribed again; the report lists them.
import-mode-add-or-update = Add new contacts and update existing ones
import-mode-add = Add new contacts only
import-mode-update = Update existing contacts only
import-list = Add to this list
import-list-none = to no list
import-new-status = Status of new contacts
import-status-unconfirmed = unconfirmed (no consent on record yet)
import-status-subscribed = subscribed
import-consent-hint = "Subscribed" only when documented consent exists for every imported contact (UWG § 7, GDPR Art. 7).
import-consent = The consents of the imported contacts are on record
import-start-button = Start the import
import-notice-started = The import has started. You may leave this page; it keeps running.
import-progress-heading = Progress
import-progress-text = { $rows } rows read ({ $percent } % of the file)
import-progress-hint = The figures update as it runs.
import-summary-heading = Result
import-report-hint = The report names every skipped row with its line number and the reason (invalid address, duplicate in the file, blank, unsubscribed or suppressed, …).
import-report-heading = Report of the import
import-report-download = Download the report
import-failed = The import failed. Contacts stored before are unchanged.
import-failed-hint = Please check the file and start a new import.
import-waiting-for-upload = The file has not been uploaded completely. Please upload it again under "New import".
import-waiting-for-mapping = This import's columns have not been mapped yet.
import-unreadable-hint = Please save the file in Excel as "CSV (comma delimited)" and upload it again.
import-problem-empty = The file is empty.
import-problem-not-csv = The file is not a CSV file (its first line is longer than 64 KB).
import-problem-alert = Please check the marked entries.
import-problem-no-email = Please map one column to the e-mail address.
import-problem-target-twice = "{ $target }" is mapped to column { $column } already.
import-problem-consent = Please confirm that the consents are on record – or import the contacts as unconfirmed.
import-problem-no-such-list = This list no longer exists.
import-problem-mapping = The mapping does not fit the file. Please check the columns.
download-link-hint = The download starts in a moment. If it does not, use the link; it works for 5 minutes.
exports-new-heading = New export
exports-new-hint = Contacts as a CSV file for Excel (UTF-8, semicolon): all of them, a list's or a segment's. The export runs in the background; the file appears in the list below.
exports-fields = Fields
exports-request-button = Request the export
exports-problem-no-field = Please choose at least one field.
exports-notice-requested = The export is requested. It appears below once the file is ready.
exports-table-caption = The exports of the last 24 hours, newest first
exports-rows = Contacts
exports-file = File
exports-none = No exports in the last 24 hours.
exports-download = Download
exports-download-heading = Download the export
exports-back = Back to the exports
exports-expiry-hint = Exports hold personal data: they are deleted after 24 hours.
export-state-queued = being written
export-state-finished = ready
export-state-failed = failed
export-field-email = E-mail address
export-field-salutation = Salutation
export-field-first-name = First name
export-field-last-name = Last name
export-field-language = Language
export-field-status = Status
export-field-created-at = Created
export-field-updated-at = Changed

# --- custom contact attributes (Felder) ---
nav-attributes = Fields
nav-attributes-description = Define your own contact fields such as customer number or birthday.
attributes-intro = Custom fields add to every contact's details. A field's name and kind are fixed once it exists; its label can change.
attributes-table-caption = The institute's fields
attributes-actions = Actions
attributes-none = No custom fields yet.
attributes-label-of = New label for “{ $name }”
attributes-relabel-button = Save label
attributes-delete-confirm = Yes, delete the field
attributes-delete-button = Delete field
attributes-delete-hint = A deleted field is no longer shown, exported or checked for any contact; stored values go at the contact's next change.
attributes-new-heading = New field
attributes-create-button = Create field
attributes-name-hint = Lower-case letters, digits and “_”, starting with a letter (e.g. customer_number). The field's name in the API, in CSV files and in templates.
attributes-kind-hint = Text, number, date or yes/no. The kind cannot change later.
attributes-full = The institute has { $max } fields already; no more are possible.
attributes-problem-name = Use lower-case letters, digits and “_” only, starting with a letter, at most 40 characters; the standard fields' names (such as email) are taken.
attributes-problem-name-taken = A field with this name exists already.
attributes-problem-too-many = No more than { $max } fields are possible.
attributes-problem-confirm-delete = Please confirm the deletion with the tick box.
attributes-notice-created = The field has been created.
attributes-notice-saved = The label has been saved.
attributes-notice-deleted = The field has been deleted.
attribute-field-label = Label
attribute-field-name = Name
attribute-field-kind = Kind
attribute-kind-text = Text
attribute-kind-number = Number
attribute-kind-date = Date
attribute-kind-boolean = Yes/no
attribute-value-none = not given
attribute-boolean-yes = yes
attribute-boolean-no = no
attribute-number-hint = E.g. 1234.56 (a decimal comma works as well).
attribute-problem-text = At most 500 characters, no control characters.
attribute-problem-number = Please enter a number, e.g. 1234.56.
attribute-problem-date = Please enter a date, e.g. 2024-12-31.
attribute-problem-boolean = Please choose yes or no.

# --- preferences, suppression list, Art. 15 (gdpr helper) ---
preferences-heading = Your preferences
preferences-hint = The language we write to you in. Changes apply to every mailing from now on. The institute changes your name or salutation at your request.
preferences-language = Language of the mailings
preferences-button = Save preferences
preferences-saved = Your preferences are saved.
preferences-invalid = Please check your entries: names at most 100 characters, no control characters.
nav-suppressions = Suppression list
nav-suppressions-description = Addresses that are never mailed
suppressions-title = Suppression list
suppressions-intro = No mailing goes to these addresses: unsubscribes, bounces, complaints, erased people (hash only) and addresses added by hand.
suppressions-table-caption = Entries of the suppression list
suppressions-reason = Reason
suppressions-added-at = Added
suppressions-actions = Action
suppressions-erased-address = erased (hash only)
suppressions-none = The suppression list is empty.
suppressions-paging = Pages of the suppression list
suppressions-remove = Remove
suppressions-reason-unsubscribed = Unsubscribed
suppressions-reason-bounced = Bounced
suppressions-reason-complained = Complaint
suppressions-reason-erased = Erased (Art. 17)
suppressions-reason-manual = Added by hand
suppressions-notice-added = The address is on the suppression list.
suppressions-notice-removed = The entry is removed.
suppressions-download = Download the suppression list as CSV
suppressions-add-heading = Suppress an address
suppressions-add-button = Add to the suppression list
suppressions-import-heading = Suppress many addresses
suppressions-import-label = Addresses
suppressions-import-hint = One address per line, or a CSV file with an "E-Mail" column pasted here. Rows with problems are skipped and named. Upload larger files (up to 10 MB) through the API.
suppressions-import-button = Suppress addresses
suppressions-report-heading = Result
suppressions-report-summary = { $rows } rows read: { $added } newly suppressed, { $already } were on the list already, { $skipped } skipped.
suppressions-report-problems = Skipped rows
suppressions-report-line = Line
suppressions-report-reason = Reason
suppressions-report-truncated = More rows were skipped; the first 1,000 are shown.
contact-data-title = Data subject access (Art. 15)
contact-data-heading = Data subject access for { $address }
contact-data-intro = Everything { $institute } stores about this person in EMMA, as of { $date }.
contact-data-back = Back to the contact
contact-data-download = Download as JSON
contact-data-id = Id
contact-data-contact-heading = Contact details
contact-data-attributes-heading = Further fields
contact-data-lists-heading = Lists
contact-data-suppression-heading = Suppression list
contact-data-suppressed = On the suppression list: { $reason }, since { $date }.
contact-data-not-suppressed = Not on the suppression list.
contact-data-consent-heading = Consent evidence
contact-data-no-consent = No consent evidence stored.
contact-data-events-heading = Delivery events
contact-data-events-caption = Events reported by the mail service
contact-data-event-kind = Event
contact-data-event-at = Time
contact-data-event-message = Message
contact-data-audit-heading = Audit log
contact-data-none = None.
contact-data-link = Data subject access (Art. 15)

# --- double opt-in: sign-up forms and consent evidence ---
nav-signup-forms = Sign-up forms
nav-signup-forms-description = Newsletter sign-up forms with double opt-in
signup-title = Newsletter sign-up
signup-submit = Sign up
signup-honeypot-label = Please leave this field empty
signup-sent = Thank you! Please confirm your sign-up with the link in the e-mail we sent you.
signup-problem-public = Please check what you entered.
signup-throttled = Very many sign-ups came from your connection just now. Please try again later.
signup-link-invalid = This confirmation link is not valid: it was altered, has expired or can no longer be used. Please sign up again.
signup-confirm-intro = Please confirm with the button that you want to receive the newsletter.
signup-confirm-button = Confirm sign-up
signup-confirmed = Thank you! Your sign-up is confirmed.
signup-already-confirmed = Your sign-up was confirmed before. Nothing has changed.
signup-forms-title = Sign-up forms
signup-forms-intro = Through a sign-up form people sign themselves up to a list. They get a confirmation mail (double opt-in) and are mailed only once they confirm. Every step is kept as consent evidence.
signup-forms-none = There is no sign-up form yet.
signup-new-heading = New sign-up form
signup-new-hint = The confirmation mail's subject and text, the thank-you text and the periods can be changed on the form's page afterwards.
signup-create-button = Create form
signup-needs-list = Create a list first: every form signs people up to a list.
signup-form-title = Sign-up form
signup-back = Back to the sign-up forms
signup-public-link = Public address
signup-consent-version = Consent text version
signup-embed-heading = Embed the form in a website
signup-embed-hint = Copy this HTML into the page where people should sign up.
signup-edit-heading = Settings
signup-asked-fields = Asked for (besides the e-mail address)
signup-consent-hint = A changed text gets a new version. The evidence of earlier sign-ups keeps the text consented to then.
signup-mail-text-hint = Where {"{"}link{"}"} stands, the e-mail carries the confirmation link.
signup-save-button = Save
signup-delete-heading = Delete the form
signup-delete-hint = Confirmation links already sent stop working. The consent evidence is kept.
signup-delete-confirm = Yes, delete this form
signup-delete-button = Delete form
signup-field-name = Form name
signup-field-list = List
signup-field-consent-text = Consent text
signup-field-from-name = Sender name of the confirmation mail
signup-field-mail-subject = Subject of the confirmation mail
signup-field-mail-text = Text of the confirmation mail
signup-field-thank-you = Thank-you text after signing up
signup-field-link-hours = Confirmation link valid for (hours)
signup-field-expiry-days = Delete unconfirmed sign-ups after (days)
signup-notice-created = The sign-up form was created.
signup-notice-saved = The settings were saved.
signup-notice-deleted = The sign-up form was deleted.
signup-list-gone = (list deleted)
signup-problem-name = Enter a name of at most 100 characters.
signup-problem-list-id = Choose an existing list.
signup-problem-consent-text = Enter a text of at most 5,000 characters.
signup-problem-from-name = At most 100 characters, no control characters.
signup-problem-mail-subject = Enter a subject of at most 200 characters on one line.
signup-problem-mail-text = The text must contain {"{"}link{"}"} and be at most 5,000 characters long.
signup-problem-thank-you-text = Enter a text of at most 2,000 characters.
signup-problem-link-validity-hours = Enter a whole number from 1 to 168.
signup-problem-expiry-days = Enter a whole number from 1 to 365; the period must not end before the confirmation link does.
signup-problem-confirm-delete = Confirm the deletion with the tick box.
consent-title = Consent evidence
consent-back = Back to the contact
consent-printed-at = As of
consent-none = No consent evidence is stored for this contact.
consent-kind-signup = Sign-up through a form
consent-kind-confirmation = Confirmation through the link in the confirmation mail
consent-at-utc = Time (UTC)
consent-ip = IP address
consent-user-agent = Browser (user agent)
consent-form = Form
consent-page = Page
consent-text-heading = Consent text as shown
consent-mail-heading = Confirmation mail as sent
consent-mail-facts = { $size } bytes,
consent-print-hint = Print this page with your browser's print function; navigation and buttons are left out.

# --- imports and exports (UI), continued ---

import-target-attribute = Field "{ $label }"

# --- lists and segments ---
nav-lists = Lists
nav-lists-description = Create lists, see and manage their members.
nav-segments = Segments
nav-segments-description = Saved filters with a live count.
lists-table-caption = Lists with their member counts
lists-field-name = Name
lists-members = Members
lists-none = No lists yet.
lists-new-heading = Create a list
lists-create-button = Create list
lists-back = All lists
lists-member-count = { $count ->
    [one] One member
   *[other] { $count } members
}
lists-add-member = Add a contact by e-mail address
lists-add-member-button = Add
lists-remove-member = Remove
lists-members-none = This list has no members yet.
lists-paging = Pages of the member list
lists-rename-heading = Rename the list
lists-rename-button = Rename
lists-delete-confirm = Yes, delete this list (the contacts stay)
lists-delete = Delete list
lists-problem-confirm-delete = Please confirm the deletion with the tick box.
lists-problem-no-contact = There is no contact with this e-mail address. Create it under "Contacts" first.
lists-notice-created = The list has been created.
lists-notice-renamed = The list has been renamed.
lists-notice-deleted = The list has been deleted.
lists-notice-added = The contact is on the list.
lists-notice-removed = The contact has been removed from the list.
segments-back = All segments
segments-table-caption = Saved segments
segments-conditions = Conditions
segments-none = No segments yet.
segments-new-heading = Create a segment
segments-edit-heading = Edit the conditions
segments-field-name = Name
segments-match = Contacts that …
segments-match-all = meet every condition
segments-match-any = meet at least one condition
segments-condition = Condition { $number }
segments-condition-choose = – choose a condition –
segments-condition-value = Value
segments-value-hint = Dates as 31.12.2024, numbers with a decimal comma, days as a whole number; leave it empty for status, language and list.
segments-condition-remove = Remove
segments-condition-add = Add a condition
segments-count-button = Count
segments-count = { $count } matching contacts
segments-save = Save segment
segments-members-heading = Matching contacts
segments-members-none = No contact meets the conditions.
segments-paging = Pages of the matching contacts
segments-delete-confirm = Yes, delete this segment (the contacts stay)
segments-delete = Delete segment
segments-problem = Please check "{ $field }": { $problem }
segments-notice-created = The segment has been saved.
segments-notice-saved = The changes have been saved.
segments-notice-deleted = The segment has been deleted.
segments-op-status-is = Status is "{ $value }"
segments-op-status-is-not = Status is not "{ $value }"
segments-op-language-is = Language is { $value }
segments-op-language-is-not = Language is not { $value }
segments-op-list-member = On the list "{ $value }"
segments-op-list-not-member = Not on the list "{ $value }"
segments-op-created-before = Created before (date)
segments-op-created-after = Created after (date)
segments-op-created-within-last-days = Created in the last … days
segments-op-attribute-equals = { $attribute } equals
segments-op-attribute-contains = { $attribute } contains
segments-op-attribute-starts-with = { $attribute } starts with
segments-op-attribute-eq = { $attribute } =
segments-op-attribute-lt = { $attribute } <
segments-op-attribute-le = { $attribute } ≤
segments-op-attribute-gt = { $attribute } >
segments-op-attribute-ge = { $attribute } ≥
segments-op-attribute-before = { $attribute } before (date)
segments-op-attribute-after = { $attribute } after (date)
segments-op-attribute-on = { $attribute } on (date)
segments-op-attribute-within-last-days = { $attribute } in the last … days
segments-op-attribute-is-true = { $attribute } is yes
segments-op-attribute-is-false = { $attribute } is no
segments-op-attribute-is-set = { $attribute } is filled in
segments-op-attribute-is-empty = { $attribute } is empty

# --- imports and exports (UI): export sources ---

exports-source = Contacts
exports-source-all = all contacts
exports-source-lists = Lists
exports-source-segments = Segments
exports-source-gone = (deleted)
exports-problem-source = This list or segment does not exist (any more), or its filter is not valid.
exports-attribute = Field "{ $label }"
# --- contact page links ---
contact-consent-link = Proof of consent
# --- segment and suppression review fixes ---
segments-changed-meanwhile = Someone else changed the segment meanwhile. Your entries are still in the form; nothing was saved. Check the current state (reload the segment) or save again to overwrite it.
segments-table-count = Matching contacts
segments-count-not-kept = count
segments-count-not-kept-hint = Segments are counted when opened; a count holds for one minute.
suppressions-report-upgraded = { $upgraded } addresses were on the list because the person unsubscribed or was erased, and are now suppressed by hand.

# --- double opt-in: evidence without the live link ---
consent-mail-redacted = Kept is the mail as sent, with its confirmation link replaced by “[Bestätigungslink entfernt]”. The checksums prove the message actually sent and the link.
consent-mail-sent-sha256 = SHA-256 of the message sent
consent-mail-sent-size = { $size } bytes
consent-mail-link-sha256 = SHA-256 of the confirmation link
# --- Art. 15 page: pending sign-ups ---
contact-data-pending-heading = Unconfirmed sign-ups
contact-data-no-pending = No sign-up is waiting for its confirmation.
# --- templates (Vorlagen) ---
nav-templates = Templates
nav-templates-description = Write newsletters in MJML or HTML, check them and see them previewed.
templates-table-caption = This institute's templates
templates-field-name = Name
templates-field-kind = Format
templates-kind-mjml = MJML (responsive)
templates-kind-html = HTML
templates-version = Version
templates-updated-at = Last saved
templates-saved-at = Saved
templates-none = No templates yet.
templates-new-heading = New template
templates-create-button = Create template
templates-back = Back to the templates
templates-notice-created = The template is created: version 1 holds a draft with an unsubscribe link.
templates-notice-saved = The template is saved as a new version; earlier versions stay as they were.
templates-notice-deleted = The template and all its versions are deleted.
templates-older-version = You are looking at version { $shown } (the current one is version { $current }). Saving makes it a new version.
templates-editor-heading = Content
templates-field-subject = Subject
templates-field-body = Content (MJML or HTML)
templates-fields-hint = Placeholders: {"{{"} contact.greeting {"}}"}, {"{{"} contact.first_name | default("customer") {"}}"}, {"{{"} contact.attributes.fieldname {"}}"}, {"{{"} institute.name {"}}"}; the unsubscribe link {"{{"} unsubscribe_url {"}}"} is required.
templates-field-text = Plain-text version (optional)
templates-text-hint = Left empty, it is made from the HTML.
templates-preview-as = Preview as contact (e-mail address)
templates-preview-as-hint = Left empty: a sample person (Erika Mustermann).
templates-preview-contact-unknown = There is no contact with this address; the preview shows the sample person.
templates-preview-button = Update preview
templates-check-button = Check
templates-save = Save as new version
templates-preview-heading = Preview
templates-preview-subject = Subject
templates-preview-width = Width
templates-preview-desktop = Desktop
templates-preview-mobile = Mobile
templates-checks-heading = Checks
templates-check-error = Error
templates-check-warning = Note
templates-checks-none = Nothing found.
templates-checks-blocking = While there are errors, no campaign can be scheduled with this template.
templates-versions-heading = Versions
templates-delete-confirm = Yes, delete this template with all its versions.
templates-delete = Delete template
templates-problem-syntax-at = Line { $line }, column { $column }: { $message }
templates-problem-syntax = { $message }
templates-problem-invalid = { $reason }
templates-problem-conflict = Version { $current } was saved meanwhile. Please reload the template; your changes are not saved yet.
templates-check-subject-empty = The subject is empty.
templates-check-subject-long = The subject is very long; many programs cut it short.
templates-check-unknown-field = Unknown placeholder "{ $subject }" - it would stay empty.
templates-check-unsubscribe-missing = The unsubscribe link ({"{{"} unsubscribe_url {"}}"}) is missing from the HTML.
templates-check-text-derived = The plain-text version is made from the HTML; please check it.
templates-check-text-empty = The plain-text version is empty.
templates-check-text-unsubscribe-missing = The unsubscribe link is missing from the plain-text version.
templates-check-html-too-large = The HTML is { $subject }; Gmail clips messages from 100 KB.
templates-check-image-alt-missing = An image without alternative text: { $subject }
templates-check-image-not-https = An image is not loaded over https: { $subject }
templates-check-script = Scripts are not allowed in e-mails.
templates-check-link-anchor = A link within the mail does not work everywhere: { $subject }
templates-check-link-scheme = A link is neither http(s) nor mailto: { $subject }
