#include "SettingsDialog.h"

#include "app/TabOrder.h"
#include "app/Theme.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QVBoxLayout>

namespace Kiln::Ui {

SettingsDialog::SettingsDialog(QWidget* parent)
    : QDialog(parent)
    , m_theme(new QComboBox(this))
    , m_notifications(
          new QCheckBox(tr("Notify me when a run ends while the studio is in the background"), this))
    , m_experiment(new QLineEdit(this))
    , m_compute(new QLineEdit(this))
    , m_environment(new QLineEdit(this))
    , m_chartX(new QComboBox(this))
    , m_chartSmoothing(new QSlider(Qt::Horizontal, this))
    , m_chartLogY(new QCheckBox(tr("Logarithmic y-axis"), this))
    , m_workspaces(new QListWidget(this)) {
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    m_theme->setObjectName(QStringLiteral("settingsTheme"));
    m_notifications->setObjectName(QStringLiteral("settingsNotifications"));
    for (auto c : {Theme::Choice::System, Theme::Choice::Light, Theme::Choice::Dark})
        m_theme->addItem(Theme::name(c), static_cast<int>(c));
    m_theme->setCurrentIndex(m_theme->findData(static_cast<int>(Theme::current())));
    QSettings settings;
    m_notifications->setChecked(settings.value(QStringLiteral("notifications/enabled"), true).toBool());
    m_experiment->setText(settings.value(QStringLiteral("defaults/experiment")).toString());
    m_compute->setText(settings.value(QStringLiteral("defaults/compute")).toString());
    m_environment->setText(settings.value(QStringLiteral("defaults/environment")).toString());
    m_experiment->setPlaceholderText(tr("fashion-mnist"));
    m_compute->setPlaceholderText(tr("local"));
    m_environment->setPlaceholderText(tr("system python"));

    m_chartX->addItem(tr("step"), QStringLiteral("step"));
    m_chartX->addItem(tr("wall time"), QStringLiteral("time"));
    m_chartX->addItem(tr("time since start"), QStringLiteral("relative"));
    m_chartSmoothing->setRange(0, 99);
    settings.beginGroup(QStringLiteral("chartDefaults"));
    m_chartX->setCurrentIndex(
        std::max(0, m_chartX->findData(settings.value(QStringLiteral("x")).toString())));
    m_chartSmoothing->setValue(settings.value(QStringLiteral("smoothing"), 0).toInt());
    m_chartLogY->setChecked(settings.value(QStringLiteral("logY"), false).toBool());
    settings.endGroup();
    m_workspaces->setObjectName(QStringLiteral("settingsWorkspaces"));
    m_workspaces->setAccessibleName(tr("Recent workspaces"));
    m_workspaces->addItems(settings.value(QStringLiteral("workspaces/recent")).toStringList());
    m_workspaces->setMaximumHeight(110);
    auto* forget = new QPushButton(tr("&Forget"), this);
    forget->setToolTip(tr("Remove the selected workspace from the list (its files stay where they are)"));
    connect(forget, &QPushButton::clicked, this, [this] { delete m_workspaces->currentItem(); });

    auto* form = new QFormLayout;
    form->addRow(tr("&Theme:"), m_theme);
    form->addRow(QString(), m_notifications);
    form->addRow(new QLabel(tr("<b>New runs start from</b>"), this));
    form->addRow(tr("&Experiment:"), m_experiment);
    form->addRow(tr("&Compute target:"), m_compute);
    form->addRow(tr("En&vironment (NAME[:VERSION]):"), m_environment);
    form->addRow(new QLabel(tr("<b>Charts start with</b> (each chart remembers its own changes)"), this));
    form->addRow(tr("&x-axis:"), m_chartX);
    form->addRow(tr("&Smoothing:"), m_chartSmoothing);
    form->addRow(QString(), m_chartLogY);
    form->addRow(new QLabel(tr("<b>Workspace connections</b>"), this));
    form->addRow(m_workspaces);
    form->addRow(QString(), forget);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    tabInLayoutOrder(this);
}

void SettingsDialog::accept() {
    const auto theme = static_cast<Theme::Choice>(m_theme->currentData().toInt());
    Theme::save(theme);
    Theme::apply(theme);
    QSettings settings;
    settings.setValue(QStringLiteral("notifications/enabled"), m_notifications->isChecked());
    settings.setValue(QStringLiteral("defaults/experiment"), m_experiment->text().trimmed());
    settings.setValue(QStringLiteral("defaults/compute"), m_compute->text().trimmed());
    settings.setValue(QStringLiteral("defaults/environment"), m_environment->text().trimmed());
    settings.setValue(QStringLiteral("chartDefaults/x"), m_chartX->currentData().toString());
    settings.setValue(QStringLiteral("chartDefaults/smoothing"), m_chartSmoothing->value());
    settings.setValue(QStringLiteral("chartDefaults/logY"), m_chartLogY->isChecked());
    QStringList workspaces;
    for (int i = 0; i < m_workspaces->count(); ++i)
        workspaces << m_workspaces->item(i)->text();
    settings.setValue(QStringLiteral("workspaces/recent"), workspaces);
    Q_EMIT applied();
    QDialog::accept();
}

} // namespace Kiln::Ui
