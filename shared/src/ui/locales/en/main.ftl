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
