#include "NewSweepDialog.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "sweeps/SweepSpec.h"
#include "workspace/WorkspaceConnection.h"

#include <cmath>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <set>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

// A search range around a value the run used, or nothing for an argument that is not a number.
std::optional<QString> proposal(const std::string& value) {
    if (value.empty() || value.find('{') != std::string::npos)
        return std::nullopt;
    try {
        std::size_t used = 0;
        const long long n = std::stoll(value, &used);
        if (used == value.size()) {
            if (n <= 0)
                return std::nullopt;
            std::set<long long> values = {std::max(1LL, n / 2), n, n * 2};
            QStringList parts;
            for (auto v : values)
                parts << QString::number(v);
            return QStringLiteral("choice(%1)").arg(parts.join(QStringLiteral(", ")));
        }
        const double f = std::stod(value, &used);
        if (used == value.size() && f > 0 && std::isfinite(f))
            return QStringLiteral("loguniform(%1, %2)")
                .arg(std::round(std::log(f / 10) * 100) / 100)
                .arg(std::round(std::log(f * 10) * 100) / 100);
    } catch (...) {
    }
    return std::nullopt;
}

} // namespace

NewSweepDialog::NewSweepDialog(WorkspaceConnection& connection, qint64 fromRun, QWidget* parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_run(fromRun)
    , m_source(new QLabel(this))
    , m_parameters(new QTableWidget(0, 2, this))
    , m_experiment(new QLineEdit(this))
    , m_metric(new QComboBox(this))
    , m_goal(new QComboBox(this))
    , m_sampling(new QComboBox(this))
    , m_seed(new QSpinBox(this))
    , m_total(new QSpinBox(this))
    , m_concurrent(new QSpinBox(this))
    , m_policy(new QComboBox(this))
    , m_policySetting(new QDoubleSpinBox(this))
    , m_delay(new QSpinBox(this))
    , m_message(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)) {
    setObjectName(QStringLiteral("newSweepDialog"));
    setWindowTitle(tr("Sweep run %1").arg(fromRun));
    setMinimumWidth(620);
    m_parameters->setObjectName(QStringLiteral("sweepParameters"));
    m_parameters->setAccessibleName(tr("Parameters"));
    m_parameters->setTabKeyNavigation(false); // Tab leaves the table (arrows move between cells)
    m_seed->setAccessibleName(tr("Random seed"));
    m_total->setAccessibleName(tr("Trials in all"));
    m_concurrent->setAccessibleName(tr("Trials at once"));
    m_policySetting->setAccessibleName(tr("Early termination setting"));
    m_delay->setAccessibleName(tr("Evaluations before early termination"));
    m_message->setObjectName(QStringLiteral("sweepMessage"));
    m_metric->setObjectName(QStringLiteral("sweepMetric"));
    m_policy->setObjectName(QStringLiteral("sweepPolicy"));
    m_total->setObjectName(QStringLiteral("sweepTotal"));
    m_parameters->setHorizontalHeaderLabels({tr("Argument"), tr("Distribution")});
    m_parameters->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_parameters->horizontalHeader()->setStretchLastSection(true);
    m_parameters->verticalHeader()->hide();
    m_parameters->setToolTip(
        tr("One row per argument to sweep, e.g. --learning-rate with loguniform(-9.2, -2.3); "
           "choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal, "
           "lognormal, qlognormal (see the README)"));
    m_source->setWordWrap(true);
    m_message->setWordWrap(true);
    m_metric->setEditable(true);
    m_goal->addItem(tr("maximize"), QStringLiteral("maximize"));
    m_goal->addItem(tr("minimize"), QStringLiteral("minimize"));
    for (const char* s : {"random", "bayesian", "sobol", "grid"})
        m_sampling->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    m_seed->setRange(0, 1 << 30);
    m_total->setRange(1, 100000);
    m_total->setValue(12);
    m_concurrent->setRange(1, 10000);
    m_concurrent->setValue(2);
    m_policy->addItem(tr("none"), QString());
    m_policy->addItem(tr("bandit (slack factor)"), QStringLiteral("bandit"));
    m_policy->addItem(tr("median stopping"), QStringLiteral("median_stopping"));
    m_policy->addItem(tr("truncation selection (%)"), QStringLiteral("truncation_selection"));
    m_policy->addItem(tr("asha (reduction factor)"), QStringLiteral("asha"));
    m_policySetting->setRange(0, 1000);
    m_policySetting->setDecimals(2);
    m_policySetting->setValue(0.1);
    m_delay->setRange(0, 1000000);
    m_delay->setValue(2);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Start sweep"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("startSweep"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);

    auto* addRow = new QPushButton(tr("&Add parameter"), this);
    auto* removeRow = new QPushButton(tr("&Remove"), this);
    auto* rowButtons = new QHBoxLayout;
    rowButtons->addWidget(addRow);
    rowButtons->addWidget(removeRow);
    rowButtons->addStretch(1);
    auto* form = new QFormLayout;
    // A row holding several widgets: its label's mnemonic goes to the first of them.
    auto labelFor = [this](const QString& text, QWidget* buddy) {
        auto* label = new QLabel(text, this);
        label->setBuddy(buddy);
        return label;
    };
    form->addRow(tr("E&xperiment:"), m_experiment);
    auto* metricRow = new QHBoxLayout;
    metricRow->addWidget(m_metric, 1);
    metricRow->addWidget(m_goal);
    form->addRow(labelFor(tr("Primary &metric:"), m_metric), metricRow);
    auto* samplingRow = new QHBoxLayout;
    samplingRow->addWidget(m_sampling, 1);
    samplingRow->addWidget(new QLabel(tr("seed"), this));
    samplingRow->addWidget(m_seed);
    form->addRow(labelFor(tr("Sa&mpling:"), m_sampling), samplingRow);
    auto* limits = new QHBoxLayout;
    limits->addWidget(m_total);
    limits->addWidget(new QLabel(tr("trials, at most"), this));
    limits->addWidget(m_concurrent);
    limits->addWidget(new QLabel(tr("at once"), this));
    limits->addStretch(1);
    form->addRow(labelFor(tr("&Trials:"), m_total), limits);
    auto* policyRow = new QHBoxLayout;
    policyRow->addWidget(m_policy, 1);
    policyRow->addWidget(m_policySetting);
    policyRow->addWidget(new QLabel(tr("after"), this));
    policyRow->addWidget(m_delay);
    policyRow->addWidget(new QLabel(tr("reports"), this));
    form->addRow(labelFor(tr("&Early termination:"), m_policy), policyRow);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_source);
    layout->addWidget(new QLabel(tr("Parameters (each is passed to the script as its argument):"), this));
    layout->addWidget(m_parameters, 1);
    layout->addLayout(rowButtons);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);

    for (auto* w : {static_cast<QObject*>(m_sampling), static_cast<QObject*>(m_policy)})
        connect(qobject_cast<QComboBox*>(w), &QComboBox::currentIndexChanged, this,
                &NewSweepDialog::validate);
    connect(m_metric, &QComboBox::currentTextChanged, this, &NewSweepDialog::validate);
    auto policySettings = [this] {
        const auto policy = m_policy->currentData().toString();
        m_policySetting->setEnabled(policy == QLatin1String("bandit") ||
                                    policy == QLatin1String("truncation_selection") ||
                                    policy == QLatin1String("asha"));
        m_delay->setEnabled(!policy.isEmpty());
        // Each policy's setting has its own sensible default.
        if (policy == QLatin1String("bandit"))
            m_policySetting->setValue(0.1);
        else if (policy == QLatin1String("truncation_selection"))
            m_policySetting->setValue(20);
        else if (policy == QLatin1String("asha"))
            m_policySetting->setValue(3);
    };
    connect(m_policy, &QComboBox::currentIndexChanged, this, policySettings);
    policySettings();
    connect(m_experiment, &QLineEdit::textChanged, this, &NewSweepDialog::validate);
    connect(m_total, &QSpinBox::valueChanged, this, &NewSweepDialog::validate);
    connect(m_parameters, &QTableWidget::cellChanged, this, &NewSweepDialog::validate);
    connect(addRow, &QPushButton::clicked, this, [this] {
        const int row = m_parameters->rowCount();
        m_parameters->insertRow(row);
        m_parameters->setItem(row, 0, new QTableWidgetItem(QStringLiteral("--")));
        m_parameters->setItem(row, 1, new QTableWidgetItem(QStringLiteral("uniform(0, 1)")));
        m_parameters->editItem(m_parameters->item(row, 0));
    });
    connect(removeRow, &QPushButton::clicked, this, [this] {
        if (m_parameters->currentRow() >= 0)
            m_parameters->removeRow(m_parameters->currentRow());
        validate();
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &NewSweepDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    m_message->setText(tr("Reading run %1…").arg(fromRun));
    const auto base = "/api/v1/runs/" + std::to_string(fromRun);
    m_connection.call(
        this,
        [base](Api::Client& c) {
            return Json{{"run", c.get(base)},
                        {"metrics", c.get(base + "/metrics")},
                        {"snapshot", c.get(base + "/snapshot")}};
        },
        [this](const Json& answer) { loaded(answer); },
        [this](const QString& error) { m_message->setText(tr("Cannot read the run: %1").arg(error)); });
    tabInLayoutOrder(this);
}

void NewSweepDialog::loaded(const Json& answer) {
    const auto& run = answer["run"];
    m_snapshot = answer["snapshot"];
    m_template = {{"experiment", run["experiment"]}, {"script", run["script"]}, {"compute", run["compute"]}};
    if (run.contains("environment") && run["environment"].is_object())
        m_template["environment"] = run["environment"]["name"].get<std::string>() + ":" +
                                    std::to_string(run["environment"]["version"].get<int>());
    // "--name value" pairs with numbers become parameters; everything else stays fixed.
    const auto args = run["args"].get<std::vector<std::string>>();
    Json fixed = Json::array();
    QSignalBlocker block(m_parameters);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool named =
            args[i].rfind("--", 0) == 0 && args[i].size() > 2 && args[i].find('=') == std::string::npos;
        const auto proposed = named && i + 1 < args.size() ? proposal(args[i + 1]) : std::nullopt;
        if (proposed) {
            const int row = m_parameters->rowCount();
            m_parameters->insertRow(row);
            m_parameters->setItem(row, 0, new QTableWidgetItem(qs(args[i])));
            m_parameters->setItem(row, 1, new QTableWidgetItem(*proposed));
            ++i;
            continue;
        }
        fixed.push_back(args[i]);
    }
    m_template["args"] = fixed;
    m_experiment->setText(qs(run["experiment"].get<std::string>()));
    for (const auto& m : answer["metrics"])
        m_metric->addItem(qs(m["key"].get<std::string>()));
    const int accuracy = m_metric->findText(QStringLiteral("accuracy"));
    m_metric->setCurrentIndex(accuracy >= 0 ? accuracy : 0);
    QStringList fixedText;
    for (const auto& a : fixed)
        fixedText << qs(a.get<std::string>());
    m_source->setText(
        tr("<b>%1</b> from run %2's snapshot, on <b>%3</b>; fixed arguments: %4")
            .arg(qs(run["script"].get<std::string>()))
            .arg(m_run)
            .arg(qs(run["compute"].get<std::string>()),
                 fixedText.isEmpty() ? tr("none") : fixedText.join(QLatin1Char(' ')).toHtmlEscaped()));
    validate();
}

Json NewSweepDialog::body() const {
    Json body = m_template;
    body["experiment"] = m_experiment->text().trimmed().toStdString();
    Json params = Json::object();
    for (int r = 0; r < m_parameters->rowCount(); ++r) {
        const auto* name = m_parameters->item(r, 0);
        const auto* expr = m_parameters->item(r, 1);
        if (name && expr && !name->text().trimmed().isEmpty())
            params[name->text().trimmed().toStdString()] = expr->text().trimmed().toStdString();
    }
    body["parameters"] = params;
    body["sampling"] = m_sampling->currentData().toString().toStdString();
    body["seed"] = m_seed->value();
    body["primary_metric"] = {{"name", m_metric->currentText().trimmed().toStdString()},
                              {"goal", m_goal->currentData().toString().toStdString()}};
    body["max_total_trials"] = m_total->value();
    body["max_concurrent_trials"] = m_concurrent->value();
    const auto policy = m_policy->currentData().toString().toStdString();
    if (!policy.empty()) {
        Json p = {{"policy", policy}, {"delay_evaluation", m_delay->value()}};
        if (policy == "bandit")
            p["slack_factor"] = m_policySetting->value();
        else if (policy == "truncation_selection")
            p["truncation_percentage"] = m_policySetting->value();
        else if (policy == "asha")
            p["reduction_factor"] = static_cast<int>(m_policySetting->value());
        body["early_termination"] = p;
    }
    return body;
}

bool NewSweepDialog::validate() {
    auto* ok = m_buttons->button(QDialogButtonBox::Ok);
    bool rowsOk = true;
    QString why;
    QSignalBlocker block(m_parameters);
    for (int r = 0; r < m_parameters->rowCount(); ++r) {
        auto* expr = m_parameters->item(r, 1);
        if (!expr)
            continue;
        try {
            Sweeps::Distribution::parse(expr->text().trimmed().toStdString());
            expr->setData(Qt::BackgroundRole, QVariant());
            expr->setToolTip(QString());
        } catch (const Sweeps::SpaceError& e) {
            expr->setData(Qt::BackgroundRole, QColor(0xff, 0xcd, 0xd2));
            expr->setToolTip(qs(e.what()));
            if (rowsOk)
                why = (m_parameters->item(r, 0) ? m_parameters->item(r, 0)->text() : QString()) +
                      QStringLiteral(": ") + qs(e.what());
            rowsOk = false;
        }
    }
    if (rowsOk && m_snapshot.is_null()) {
        ok->setEnabled(false);
        return false;
    }
    if (rowsOk) {
        try {
            Sweeps::SweepSpec::fromJson(body());
        } catch (const Sweeps::SpaceError& e) {
            why = qs(e.what());
            rowsOk = false;
        }
    }
    if (rowsOk && m_experiment->text().trimmed().isEmpty()) {
        why = tr("An experiment name is needed.");
        rowsOk = false;
    }
    m_message->setText(
        rowsOk ? tr("Ready: up to %n trial(s).", nullptr, m_total->value())
               : QStringLiteral("<span style='color:#c62828'>%1</span>").arg(why.toHtmlEscaped()));
    ok->setEnabled(rowsOk);
    return rowsOk;
}

void NewSweepDialog::submit() {
    if (!validate())
        return;
    auto body = this->body();
    body["snapshot"] = m_snapshot;
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    m_message->setText(tr("Starting the sweep…"));
    QPointer<NewSweepDialog> self(this);
    m_connection.call(
        this, [body](Api::Client& c) { return c.post("/api/v1/sweeps", body); },
        [this](const Json& sweep) {
            Q_EMIT created(sweep["id"].get<qint64>());
            accept();
        },
        [this](const QString& error) {
            m_message->setText(tr("Not started: %1").arg(error));
            m_buttons->button(QDialogButtonBox::Ok)->setEnabled(true);
        });
}

} // namespace Kiln::Ui
