#include "NewComputeDialog.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QThread>
#include <QVBoxLayout>

namespace Kiln::Ui {

NewComputeDialog::NewComputeDialog(WorkspaceConnection& connection, QWidget* parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_name(new QLineEdit(this))
    , m_type(new QComboBox(this))
    , m_maxNodes(new QSpinBox(this))
    , m_cpus(new QSpinBox(this))
    , m_memory(new QSpinBox(this))
    , m_slurmUrl(new QLineEdit(this))
    , m_slurmToken(new QLineEdit(this))
    , m_slurmUser(new QLineEdit(this))
    , m_partition(new QLineEdit(this))
    , m_localBox(new QWidget(this))
    , m_slurmBox(new QWidget(this))
    , m_progress(new QProgressBar(this))
    , m_message(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)) {
    setObjectName(QStringLiteral("newComputeDialog"));
    setWindowTitle(tr("New compute"));
    m_name->setObjectName(QStringLiteral("computeName"));
    m_maxNodes->setObjectName(QStringLiteral("maxNodes"));
    m_cpus->setObjectName(QStringLiteral("cpusPerRun"));
    m_message->setObjectName(QStringLiteral("computeMessage"));
    m_name->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")), this));
    m_name->setPlaceholderText(tr("e.g. gpu-box"));
    m_type->addItem(tr("Local (this machine)"), QStringLiteral("local"));
    m_type->addItem(tr("Slurm cluster"), QStringLiteral("slurm"));
    m_type->setObjectName(QStringLiteral("computeType"));
    m_slurmUrl->setObjectName(QStringLiteral("slurmUrl"));
    m_slurmToken->setObjectName(QStringLiteral("slurmToken"));
    m_partition->setObjectName(QStringLiteral("partition"));
    m_slurmUrl->setPlaceholderText(QStringLiteral("http://slurm-head:6820"));
    m_slurmToken->setEchoMode(QLineEdit::Password);
    m_slurmToken->setPlaceholderText(tr("JWT (scontrol token); stored 0600 in the workspace"));
    m_slurmUser->setText(QStringLiteral("root"));
    m_partition->setPlaceholderText(QStringLiteral("debug"));
    const int cpus = std::max(1, QThread::idealThreadCount());
    m_maxNodes->setRange(1, 256);
    m_maxNodes->setValue(cpus);
    m_maxNodes->setToolTip(tr("How many runs may run at once"));
    m_cpus->setRange(0, cpus);
    m_cpus->setSpecialValueText(tr("no limit"));
    m_cpus->setToolTip(tr("Pins each run to this many CPUs (sched_setaffinity)"));
    m_memory->setRange(0, 1 << 24);
    m_memory->setSingleStep(512);
    m_memory->setSuffix(tr(" MB"));
    m_memory->setSpecialValueText(tr("no limit"));
    m_memory->setToolTip(tr("Memory each run may hold: the resident memory of its whole process tree"));
    m_progress->hide();
    m_message->setWordWrap(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Create"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("createCompute"));
    setMinimumWidth(480);

    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Type:"), m_type);
    form->addRow(tr("Ma&x nodes:"), m_maxNodes);
    auto* local = new QFormLayout(m_localBox);
    local->setContentsMargins(0, 0, 0, 0);
    local->addRow(tr("&CPUs per run:"), m_cpus);
    local->addRow(tr("&Memory per run:"), m_memory);
    auto* slurm = new QFormLayout(m_slurmBox);
    slurm->setContentsMargins(0, 0, 0, 0);
    slurm->addRow(tr("slurmrestd &URL:"), m_slurmUrl);
    slurm->addRow(tr("U&ser:"), m_slurmUser);
    slurm->addRow(tr("T&oken:"), m_slurmToken);
    slurm->addRow(tr("&Partition:"), m_partition);
    m_slurmBox->hide();
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_localBox);
    layout->addWidget(m_slurmBox);
    layout->addWidget(m_progress);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);
    connect(m_type, &QComboBox::currentIndexChanged, this, [this] {
        const bool isSlurm = m_type->currentData().toString() == QLatin1String("slurm");
        m_localBox->setVisible(!isSlurm);
        m_slurmBox->setVisible(isSlurm);
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &NewComputeDialog::provision);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    tabInLayoutOrder(this);
}

void NewComputeDialog::provision() {
    const auto name = m_name->text().trimmed();
    if (name.isEmpty()) {
        m_message->setText(tr("A name is needed."));
        return;
    }
    const auto type = m_type->currentData().toString();
    nlohmann::json body = {
        {"name", name.toStdString()}, {"type", type.toStdString()}, {"max_nodes", m_maxNodes->value()}};
    if (type == QLatin1String("local")) {
        body["cpus"] = m_cpus->value();
        body["memory_mb"] = m_memory->value();
    }
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    m_progress->setRange(0, 0);
    m_progress->show();
    m_message->setText(tr("Provisioning %1…").arg(name));
    QPointer<NewComputeDialog> self(this);
    m_connection.call(
        this,
        [body, self](Api::Client& c) {
            auto answer = c.post("/api/v1/compute", body);
            if (!answer.contains("job"))
                return answer;
            // A cluster: show each provisioning step as it happens.
            return c.waitJob(answer["job"].get<std::int64_t>(), [self](const nlohmann::json& j) {
                const auto step = QString::fromStdString(j["progress"].value("step", std::string()));
                QMetaObject::invokeMethod(
                    qApp,
                    [self, step] {
                        if (self && !step.isEmpty())
                            self->m_message->setText(step + QStringLiteral("…"));
                    },
                    Qt::QueuedConnection);
            });
        },
        [this](const nlohmann::json& target) {
            m_progress->setRange(0, 1);
            m_progress->setValue(1);
            const auto name = QString::fromStdString(target["name"].get<std::string>());
            m_message->setText(tr("%1 is ready (%2).")
                                   .arg(name, QString::fromStdString(target["state"].get<std::string>())));
            Q_EMIT created(name);
            accept();
        },
        [this](const QString& error) {
            m_progress->hide();
            m_buttons->button(QDialogButtonBox::Ok)->setEnabled(true);
            m_message->setText(tr("Not created: %1").arg(error));
        });
}

} // namespace Kiln::Ui
